import type { TestNavet } from './test-navet';

/** Test persons of the seeded registry (identifiers-and-codes spec). */
export const LINE_DANSER = '13116900216';
export const HARRY_HANDEL = '08077000292';
/** Gry Telokk has no seeded documents: tests that count documents give her their own. */
export const GRY_TELOKK = '12057900499';
export const FNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';

export async function patientId(test: TestNavet, auth: string, sandbox: string, nin: string): Promise<string> {
  const found = await test.http.get(`/sandboxes/${sandbox}/fhir/Patient?identifier=${nin}`).set('Authorization', auth);
  const id = found.body.entry?.[0]?.resource?.id;
  if (!id) throw new Error(`no Patient ${nin} in sandbox ${sandbox}`);
  return id;
}

/** Stores a DocumentReference for a patient through the admin FHIR API (the way a tester seeds one). */
export async function seedDocument(
  test: TestNavet,
  auth: string,
  sandbox: string,
  patient: string,
  options: { title: string; date: string; blocked?: boolean },
): Promise<string> {
  const created = await test.http
    .post(`/sandboxes/${sandbox}/fhir/DocumentReference`)
    .set('Authorization', auth)
    .send({
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: `Patient/${patient}` },
      date: options.date,
      category: [
        {
          coding: [
            { system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A00-1', display: 'Epikriser og sammenfatninger' },
          ],
        },
      ],
      type: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A03-2', display: 'Epikrise' }] },
      securityLabel: [
        { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9603', code: options.blocked ? 'NORS' : 'N' }] },
      ],
      content: [{ attachment: { contentType: 'application/pdf', title: options.title } }],
    });
  if (created.status !== 201)
    throw new Error(`seeding a document failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** An ITI-65 Provide Document Bundle of one document with its content as a Binary entry. */
export function provideBundle(
  nin: string,
  base64: string,
  options: {
    category?: string;
    type?: string;
    contentType?: string;
    relatesTo?: string;
    extra?: Record<string, unknown>;
  } = {},
) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:8d2f4a10-0000-4000-8000-000000000001',
        resource: { resourceType: 'List', status: 'current', mode: 'working', title: 'Innsending' },
        request: { method: 'POST', url: 'List' },
      },
      {
        fullUrl: 'urn:uuid:8d2f4a10-0000-4000-8000-000000000002',
        resource: {
          resourceType: 'DocumentReference',
          status: 'current',
          subject: { identifier: { system: FNR_SYSTEM, value: nin } },
          date: '2026-10-01T08:00:00Z',
          category: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: options.category ?? 'A00-1' }] }],
          type: {
            coding: [
              { system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: options.type ?? 'A03-2', display: 'Epikrise' },
            ],
          },
          content: [
            {
              attachment: { url: 'urn:uuid:8d2f4a10-0000-4000-8000-000000000003', title: 'Epikrise fra testen' },
              format: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.3', code: 'urn:no:ehelse:document:pdf' },
            },
          ],
          ...(options.relatesTo
            ? { relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${options.relatesTo}` } }] }
            : {}),
          ...options.extra,
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      {
        fullUrl: 'urn:uuid:8d2f4a10-0000-4000-8000-000000000003',
        resource: { resourceType: 'Binary', contentType: options.contentType ?? 'application/pdf', data: base64 },
        request: { method: 'POST', url: 'Binary' },
      },
    ],
  };
}

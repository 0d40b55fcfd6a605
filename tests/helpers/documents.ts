import type { TestNavet } from './test-navet';

/** Test persons of the seeded registry (identifiers-and-codes spec). */
export const LINE_DANSER = '13116900216';
export const HARRY_HANDEL = '08077000292';
export const FNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';

export async function patientId(test: TestNavet, auth: string, sandbox: string, nin: string): Promise<string> {
  const found = await test.http.get(`/sandboxes/${sandbox}/fhir/Patient?identifier=${nin}`).set('Authorization', auth);
  const id = found.body.entry?.[0]?.resource?.id;
  if (!id) throw new Error(`no Patient ${nin} in sandbox ${sandbox}`);
  return id;
}

/** Stores a DocumentReference for a patient through the admin FHIR API (the way a tester seeds one). */
export async function seedDocument(test: TestNavet, auth: string, sandbox: string, patient: string, options: { title: string; date: string; blocked?: boolean }): Promise<string> {
  const created = await test.http.post(`/sandboxes/${sandbox}/fhir/DocumentReference`).set('Authorization', auth).send({
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: `Patient/${patient}` },
    date: options.date,
    category: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A00-1', display: 'Epikriser og sammenfatninger' }] }],
    type: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A03-2', display: 'Epikrise' }] },
    securityLabel: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9603', code: options.blocked ? 'NORS' : 'N' }] }],
    content: [{ attachment: { contentType: 'application/pdf', title: options.title } }],
  });
  if (created.status !== 201) throw new Error(`seeding a document failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

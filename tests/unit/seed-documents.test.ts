import path from 'node:path';
import type { Binary, DocumentReference } from 'fhir/r4';
import { buildSeedResources } from '../../src/sandbox/seed-resources';
import { buildSeedDocuments } from '../../src/services/documents/seed-documents';

const fixtures = path.resolve(__dirname, '..', '..', 'fixtures', 'demo');
const settings = { seed: 11, referenceDate: '2026-01-01', syntheticPatients: 20 };
const patientsOf = (s: typeof settings) => buildSeedResources(fixtures, s).filter((r) => r.resourceType === 'Patient');
const binaryOf = (documents: (DocumentReference | Binary)[], reference: DocumentReference) => {
  const hash = String(reference.content[0].attachment.hash);
  const binary = documents.find((r) => r.id === `sha1-${Buffer.from(hash, 'base64').toString('hex')}`);
  return Buffer.from(String(binary?.resourceType === 'Binary' ? binary.data : undefined), 'base64');
};

describe('the seed documents', () => {
  test('the same settings give byte-identical documents; another seed gives others', async () => {
    const first = await buildSeedDocuments(patientsOf(settings), settings);
    const again = await buildSeedDocuments(patientsOf(settings), settings);
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    const other = await buildSeedDocuments(patientsOf({ ...settings, seed: 12 }), { ...settings, seed: 12 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
  });

  test('PDFs, a CDA with a PDF body and KITH referrals, each described by its size and hash', async () => {
    const patients = patientsOf(settings);
    const documents = await buildSeedDocuments(patients, settings);
    const references = documents.filter((r) => r.resourceType === 'DocumentReference');
    const lineId = patients.find((p) => (p.identifier as { value: string }[])[0].value === '13116900216')?.id;
    const line = references.filter((r) => (r.subject as { reference: string }).reference === `Patient/${lineId}`);
    expect(line).toHaveLength(8);
    for (const reference of references) {
      const bytes = binaryOf(documents, reference);
      const { attachment } = (reference.content as { attachment: { size: number; contentType: string } }[])[0];
      expect(bytes.length).toBe(attachment.size);
      if (attachment.contentType === 'application/pdf') expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    }
    const formats = new Set(line.map((r) => (r.content as { format: { code: string } }[])[0].format.code));
    expect([...formats].sort()).toEqual([
      'urn:ihe:iti:xds:2017:mimeTypeSufficient',
      'urn:no:ehelse:document:pdf',
      'urn:no:kith:xmlstds:henvisning',
    ]);
    const cda = binaryOf(
      documents,
      line.find(
        (r) =>
          (r.content as { format: { code: string } }[])[0].format.code === 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
      ) as DocumentReference,
    ).toString();
    const embedded = /<text mediaType="application\/pdf" representation="B64">([^<]+)<\/text>/.exec(cda)?.[1] ?? '';
    expect(Buffer.from(embedded, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
  });

  test('volume mode gives every patient the asked number of documents, sharing stored content', async () => {
    const volume = { ...settings, documentsPerPatient: 3 };
    const documents = await buildSeedDocuments(patientsOf(volume), volume);
    const patients = patientsOf(volume).length;
    expect(documents.filter((r) => r.resourceType === 'DocumentReference')).toHaveLength(patients * 3);
    expect(documents.filter((r) => r.resourceType === 'Binary').length).toBeLessThanOrEqual(5);
  });
});

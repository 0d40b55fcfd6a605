import type { Binary, DocumentReference } from 'fhir/r4';
import type { FhirResource } from '../../fhir/types';
import { renderPdf } from './document-pdf';
import { buildDocumentReference, type DocumentSource } from './document-reference';
import { SYSTEMS } from '../../codes/code-systems';
import type { GeneratorSettings } from '../../sandbox/seed-resources';
import { createFaker } from '../../sandbox/seed/synthetic';
import { seedToken } from '../../sandbox/seed/resources';

/**
 * The seed's record documents: discharge summaries, lab and imaging reports, referrals and out-of-hours
 * notes from the fixtures' hospitals, GP office and out-of-hours service, as real PDFs, a CDA with a PDF
 * body and KITH XML referrals. The PJD test patients get a full set; every fifth other patient a few.
 * Dates count back from the reference date; the same settings give the same bytes.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
const PJD_TEST_PATIENTS = new Set(['13116900216', '12119000465', '08077000292']);

const SOURCES: Record<string, DocumentSource & { facilityType: { code: string; display: string } }> = {
  rikshospitalet: {
    institution: { orgnr: '874716782', name: 'Oslo universitetssykehus, Rikshospitalet somatikk' },
    department: { resh: '705592', name: 'Kardiologisk avdeling' },
    author: { hpr: '9144900', given: ['Magnar'], family: 'Koman' },
    facilityType: { code: '86.101', display: 'Somatiske sykehus' },
  },
  haukeland: {
    institution: { orgnr: '974557746', name: 'Haukeland universitetssjukehus' },
    department: { resh: '109765', name: 'Laboratorium for klinisk biokjemi' },
    author: { hpr: '9144897', given: ['August'], family: 'September' },
    facilityType: { code: '86.101', display: 'Somatiske sykehus' },
  },
  legevakt: {
    institution: { orgnr: '100100223', name: 'Andeby Legevakt' },
    author: { hpr: '222200068', given: ['Ben'], family: 'Reddik' },
    facilityType: { code: '86.901', display: 'Legevakt' },
  },
  fastlege: {
    institution: { orgnr: '100100673', name: 'Fagersta Testlegekontor' },
    author: { hpr: '565501872', given: ['Grønn'], family: 'Vits' },
    facilityType: { code: '86.211', display: 'Allmennlegetjeneste' },
  },
};

interface DocumentKind {
  source: keyof typeof SOURCES;
  category: string;
  type: string;
  title: string;
  body: 'pdf' | 'cda' | 'kith-henvisning';
  paragraphs: string[];
}

const KINDS: DocumentKind[] = [
  {
    source: 'rikshospitalet',
    category: 'A00-1',
    type: 'A03-2',
    title: 'Epikrise kardiologisk avdeling',
    body: 'pdf',
    paragraphs: [
      'Innlagt med brystsmerter og dyspné. EKG viste ST-depresjon; troponin forhøyet.',
      'Koronar angiografi med PCI av RCA. Utskrevet i god form med dobbel platehemming i tolv måneder.',
      'Kontroll hos fastlege om fire uker.',
    ],
  },
  {
    source: 'haukeland',
    category: 'C00-1',
    type: 'C01-2',
    title: 'Svarrapport medisinsk biokjemi',
    body: 'pdf',
    paragraphs: [
      'Hemoglobin 13,2 g/dL (ref 11,7–15,3). CRP 4 mg/L (ref <5). Kreatinin 78 µmol/L (ref 45–90).',
      'HbA1c 46 mmol/mol (ref 20–42): forhøyet.',
    ],
  },
  {
    source: 'haukeland',
    category: 'E00-1',
    type: 'E01-2',
    title: 'Røntgen thorax',
    body: 'pdf',
    paragraphs: ['Normal hjertestørrelse. Ingen infiltrater eller pleuravæske.', 'Konklusjon: normale forhold.'],
  },
  {
    source: 'fastlege',
    category: 'I00-1',
    type: 'I01-2',
    title: 'Henvisning til kardiolog',
    body: 'kith-henvisning',
    paragraphs: ['Henvises for vurdering av anstrengelsesutløste brystsmerter siste tre måneder.'],
  },
  {
    source: 'legevakt',
    category: 'A00-1',
    type: 'A03-2',
    title: 'Notat fra legevakt',
    body: 'cda',
    paragraphs: [
      'Oppsøkte legevakten med feber og hoste i fem dager. Lungeauskultasjon med knatrelyder basalt høyre.',
      'Behandlet for pneumoni med fenoksymetylpenicillin.',
    ],
  },
];

interface SeedPatient {
  id: string;
  nin: string;
  name: string;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A KITH referral (henvisning 2012-02-15), reduced to the parts a viewer shows. */
function kithReferral(kind: DocumentKind, patient: SeedPatient, date: string): Uint8Array {
  const source = SOURCES[kind.source];
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>
<Henvisning xmlns="http://www.kith.no/xmlstds/henvisning/2012-02-15">
  <GenDate>${date}</GenDate>
  <Patient><Name>${escapeXml(patient.name)}</Name><OffId>${patient.nin}</OffId></Patient>
  <Avsender><Organisasjon><Navn>${escapeXml(source.institution.name)}</Navn><Orgnr>${source.institution.orgnr}</Orgnr></Organisasjon>
    <Helsepersonell><Navn>${escapeXml(`${source.author?.given.join(' ')} ${source.author?.family}`)}</Navn><HprNr>${source.author?.hpr}</HprNr></Helsepersonell></Avsender>
  <Henvisningsgrunn>${escapeXml(kind.paragraphs.join(' '))}</Henvisningsgrunn>
</Henvisning>
`);
}

/** A CDA ClinicalDocument whose nonXMLBody holds the PDF, as some sources send it. */
function cdaWithPdf(kind: DocumentKind, patient: SeedPatient, date: string, pdf: Uint8Array): Uint8Array {
  const stamp = date.replace(/[-:]/g, '').slice(0, 15).replace('T', '');
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <title>${escapeXml(kind.title)}</title>
  <effectiveTime value="${stamp}"/>
  <recordTarget><patientRole><id root="${SYSTEMS.fnr.replace('urn:oid:', '')}" extension="${patient.nin}"/></patientRole></recordTarget>
  <component><nonXMLBody><text mediaType="application/pdf" representation="B64">${Buffer.from(pdf).toString('base64')}</text></nonXMLBody></component>
</ClinicalDocument>
`);
}

async function document(
  kind: DocumentKind,
  patient: SeedPatient,
  date: string,
  id: string,
): Promise<(DocumentReference | Binary)[]> {
  const source = SOURCES[kind.source];
  const author = source.author ? `${source.author.given.join(' ')} ${source.author.family}` : '';
  const pdf = () =>
    renderPdf({
      title: kind.title,
      date,
      header: [
        `Pasient: ${patient.name} (${patient.nin})`,
        `Fra: ${source.institution.name}${source.department ? `, ${source.department.name}` : ''}`,
        `Ansvarlig: ${author}`,
        `Dato: ${date.slice(0, 10)}`,
      ],
      paragraphs: kind.paragraphs,
    });
  let bytes: Uint8Array;
  let contentType = 'application/pdf';
  let format = 'urn:no:ehelse:document:pdf';
  if (kind.body === 'kith-henvisning') {
    bytes = kithReferral(kind, patient, date);
    contentType = 'application/xml';
    format = 'urn:no:kith:xmlstds:henvisning';
  } else if (kind.body === 'cda') {
    bytes = cdaWithPdf(kind, patient, date, await pdf());
    contentType = 'application/xml';
    format = 'urn:ihe:iti:xds:2017:mimeTypeSufficient';
  } else bytes = await pdf();
  const { documentReference, binary } = buildDocumentReference({
    id,
    patient,
    category: kind.category,
    type: kind.type,
    title: kind.title,
    date,
    source,
    contentType,
    format,
    bytes,
    facilityType: source.facilityType,
    practiceSetting: { system: 'urn:oid:2.16.578.1.12.4.1.1.8655', code: 'S03' },
  });
  return [documentReference, binary];
}

/** Volume mode: documents from one shared rendering per kind (no patient in the content). */
async function* volumeDocuments(
  patients: SeedPatient[],
  perPatient: number,
  faker: ReturnType<typeof createFaker>,
  reference: number,
): AsyncGenerator<DocumentReference | Binary> {
  const templates = await Promise.all(
    KINDS.map(async (kind) => {
      const source = SOURCES[kind.source];
      const pdf = await renderPdf({
        title: kind.title,
        date: new Date(reference).toISOString(),
        header: [`Fra: ${source.institution.name}`],
        paragraphs: kind.paragraphs,
      });
      return { kind, bytes: pdf };
    }),
  );
  for (const patient of patients) {
    for (let n = 0; n < perPatient; n++) {
      const { kind, bytes } = faker.helpers.arrayElement(templates);
      const source = SOURCES[kind.source];
      const date = new Date(reference - faker.number.int({ min: 1, max: 3650 }) * DAY_MS)
        .toISOString()
        .replace('.000Z', 'Z');
      const { documentReference, binary } = buildDocumentReference({
        id: `doc-${seedToken(patient.nin)}-${n + 1}`,
        patient,
        category: kind.category,
        type: kind.type,
        title: kind.title,
        date,
        source,
        contentType: 'application/pdf',
        format: 'urn:no:ehelse:document:pdf',
        bytes,
        facilityType: source.facilityType,
      });
      yield documentReference;
      yield binary;
    }
  }
}

/** The seed's documents for the given patients (seed Patient resources); each content stored once. */
export async function buildSeedDocuments(
  patients: FhirResource[],
  settings: GeneratorSettings,
): Promise<(DocumentReference | Binary)[]> {
  const resources: (DocumentReference | Binary)[] = [];
  for await (const resource of seedDocuments(patients, settings)) resources.push(resource);
  return resources;
}

/** The documents one by one, in the order `buildSeedDocuments` lists them; a shared content only the first time. */
export async function* seedDocuments(
  patients: FhirResource[],
  settings: GeneratorSettings,
): AsyncGenerator<DocumentReference | Binary> {
  const faker = createFaker(settings.seed + 9602);
  const reference = Date.parse(`${settings.referenceDate}T12:00:00Z`);
  const seedPatients = patients.map((patient) => ({
    id: patient.id as string,
    nin: (patient.identifier as { value: string }[])[0].value,
    name: (patient.name as { text: string }[])[0].text,
  }));
  const seen = new Set<string>();
  const once = (resource: DocumentReference | Binary) => {
    // every DocumentReference is new; Binary content is shared
    if (resource.resourceType !== 'Binary') return true;
    if (seen.has(resource.id as string)) return false;
    seen.add(resource.id as string);
    return true;
  };
  if (settings.documentsPerPatient !== undefined) {
    for await (const resource of volumeDocuments(seedPatients, settings.documentsPerPatient, faker, reference))
      if (once(resource)) yield resource;
  } else {
    for (const [index, patient] of seedPatients.entries()) {
      const full = PJD_TEST_PATIENTS.has(patient.nin);
      if (!full && index % 5 !== 0) continue;
      // test patients: every kind, plus an old lab report, an old referral and an old X-ray (left out by age under kjernejournalforskriften)
      const plan = full
        ? [
            ...KINDS.map((kind, i) => ({ kind, daysAgo: 20 + i * 45 })),
            { kind: KINDS[1], daysAgo: 800 },
            { kind: KINDS[3], daysAgo: 540 },
            { kind: KINDS[2], daysAgo: 2200 },
          ]
        : Array.from({ length: faker.number.int({ min: 1, max: 3 }) }, () => ({
            kind: faker.helpers.arrayElement(KINDS),
            daysAgo: faker.number.int({ min: 5, max: 2500 }),
          }));
      for (const [n, { kind, daysAgo }] of plan.entries()) {
        const date = new Date(reference - daysAgo * DAY_MS).toISOString().replace('.000Z', 'Z');
        for (const resource of await document(kind, patient, date, `doc-${seedToken(patient.nin)}-${n + 1}`))
          if (once(resource)) yield resource;
      }
    }
  }
}

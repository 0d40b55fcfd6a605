import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

/**
 * The seeded data, pinned: the rows a seed stores (resources, their versions and the search index, with
 * every column but the sandbox) must be the same whatever way the seed is built and written. The digests
 * and counts below were taken from the seeding code before it was made to stream (issue 17); a change to
 * what a seed holds changes them, and then they are to be taken again on purpose.
 */
let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(async () => {
  await server.close();
});

interface SeedContent {
  countsPerType: Record<string, number>;
  rows: { resources: number; versions: number; index: number };
  digest: { resources: string; versions: string; index: string };
}

/** Every row of the three tables as text (without the sandbox), sorted in JavaScript so both engines agree. */
async function seedContent(sandbox: string): Promise<SeedContent> {
  const db = server.navet.database.db;
  const number = (v: unknown) => (v === null || v === undefined ? '' : String(Number(v)));
  const digestOf = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex');
  const resources = (
    await sql<
      Record<string, unknown>
    >`select resource_type, id, version_id, last_updated, deleted, content from resources where sandbox = ${sandbox}`.execute(
      db,
    )
  ).rows;
  const versions = (
    await sql<
      Record<string, unknown>
    >`select resource_type, id, version_id, last_updated, deleted, content, method from resource_versions where sandbox = ${sandbox}`.execute(
      db,
    )
  ).rows;
  const index = (
    await sql<
      Record<string, unknown>
    >`select resource_type, resource_id, param, text, system, code, low, high from search_index where sandbox = ${sandbox}`.execute(
      db,
    )
  ).rows;
  const countsPerType: Record<string, number> = {};
  for (const row of resources)
    countsPerType[String(row.resource_type)] = (countsPerType[String(row.resource_type)] ?? 0) + 1;
  const resourceLine = (r: Record<string, unknown>) =>
    JSON.stringify([r.resource_type, r.id, number(r.version_id), r.last_updated, number(r.deleted), r.content]);
  return {
    countsPerType: Object.fromEntries(Object.entries(countsPerType).sort(([a], [b]) => a.localeCompare(b))),
    rows: { resources: resources.length, versions: versions.length, index: index.length },
    digest: {
      resources: digestOf(resources.map(resourceLine)),
      versions: digestOf(versions.map((r) => `${resourceLine(r)} ${String(r.method)}`)),
      index: digestOf(
        index.map((r) =>
          JSON.stringify([
            r.resource_type,
            r.resource_id,
            r.param,
            r.text ?? null,
            r.system ?? null,
            r.code ?? null,
            number(r.low),
            number(r.high),
          ]),
        ),
      ),
    },
  };
}

const PINNED: Record<string, SeedContent> = {
  'the demo seed (fixtures, 300 patients)': {
    countsPerType: {
      AllergyIntolerance: 39,
      Binary: 146,
      Condition: 15,
      DiagnosticReport: 504,
      DocumentReference: 146,
      Flag: 7,
      List: 107,
      Medication: 30,
      MedicationDispense: 498,
      MedicationStatement: 568,
      Observation: 961,
      Organization: 13,
      Patient: 309,
      Practitioner: 10,
      PractitionerRole: 16,
      ServiceRequest: 504,
      Specimen: 457,
    },
    rows: { resources: 4330, versions: 4572, index: 54185 },
    digest: {
      resources: 'a66530dc90b8048dd488926e2cfd29969332db809875bd328dfb8cb344557173',
      versions: '38b99026fc611d692aabfe728cd5cdfdf35de9872a829685c82e2326f394a25d',
      index: 'c94461890f2a0bee5aed3e0cd1b7447c41348bed14c2fedfd2547a10e46caa42',
    },
  },
  'a volume seed (200 patients, 2 documents and 3 lab reports each)': {
    countsPerType: {
      AllergyIntolerance: 32,
      Binary: 5,
      Condition: 15,
      DiagnosticReport: 627,
      DocumentReference: 418,
      Flag: 6,
      List: 80,
      Medication: 30,
      MedicationDispense: 360,
      MedicationStatement: 410,
      Organization: 13,
      Patient: 209,
      Practitioner: 10,
      PractitionerRole: 16,
      Specimen: 627,
    },
    rows: { resources: 2858, versions: 3022, index: 35023 },
    digest: {
      resources: 'a41570082f1ece1dd4a6b0dd4ff166668701e48f57c4a87a3850654268848369',
      versions: 'd3526e63637008ed25a2c65614c13c4fc0c042932401f31e7a8715dbfed1315d',
      index: '622a966c03ae68884692efdb6bfd9ef214e821f8b497fde1c2c057b89b1dbc01',
    },
  },
  'a municipality seed (Testvik)': {
    countsPerType: {
      AllergyIntolerance: 27,
      Condition: 4,
      Flag: 1,
      List: 103,
      Medication: 30,
      MedicationDispense: 453,
      MedicationStatement: 518,
      Organization: 1,
      Patient: 300,
    },
    rows: { resources: 1437, versions: 1627, index: 15933 },
    digest: {
      resources: 'eb518000d41f35dd6bb723e53625253389c5523f1aceb79941e45c31c7ef0915',
      versions: '52ef68524488440d1899a49dcd7ee294d4e75aed53792b2d221d2fb5664ec25a',
      index: '39dbf6e6ba3d11714e0270a5a34a9100d37589ed73aee856ad1f4fd9c70242c3',
    },
  },
};

describe.each([
  ['the demo seed (fixtures, 300 patients)', { seed: 'fixtures' }],
  [
    'a volume seed (200 patients, 2 documents and 3 lab reports each)',
    {
      seed: 'fixtures',
      generator: { syntheticPatients: 200, documentsPerPatient: 2, labReportsPerPatient: 3, seed: 5 },
    },
  ],
  [
    'a municipality seed (Testvik)',
    {
      seed: 'municipality',
      municipality: {
        kommunenummer: '9999',
        name: 'Testvik kommune',
        population: 2000,
        postalCode: '9999',
        city: 'Testvik',
      },
    },
  ],
])('%s', (label, body) => {
  test('stores exactly the pinned resources, versions and search-index rows', async () => {
    const sandbox = await createSandbox(server, body);
    const content = await seedContent(sandbox.name);
    expect(content).toEqual(PINNED[label]);
  });
});

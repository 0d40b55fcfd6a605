import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { organizationResource } from '../../src/sandbox/seed/resources';
import { Sandboxes } from '../../src/sandbox/sandboxes';
import { type DatabaseHandle, openDatabase } from '../../src/store/database';
import { ResourceStore } from '../../src/store/resource-store';
import { parseAuthorizationDetails, type TillitsrammeverkAttestation } from '../../src/trust/attestation';
import {
  accessContextFromAttestation,
  checkAttestationRules,
  type RuleContext,
} from '../../src/trust/attestation-rules';
import { TrustError } from '../../src/http/trust-error';
import { SANDBOX_SEEDING } from '../../src/services/seeders';

/**
 * The attestation parser and the ATT rules, against a sandbox seeded from fixtures/demo (the spec's test
 * practitioners and organisations). Runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
 */

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'demo');
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR = 'urn:oid:2.16.578.1.12.4.1.4.2';
const HNR = 'urn:oid:2.16.578.1.12.4.1.4.3';
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';
const ENH = 'urn:oid:2.16.578.1.12.4.1.4.101';
const RESH = 'urn:oid:2.16.578.1.12.4.1.4.102';
const VOLVEN = 'urn:oid:2.16.578.1.12.4.1.1.';
const PURPOSE_OF_USE = 'urn:oid:2.16.840.1.113883.1.11.20448';
const CARE_RELATION = 'urn:AuditEventHL7Norway/CodeSystem/carerelation';
const TYPE = 'nhn:tillitsrammeverk:parameters';

// fixtures/demo: Magnar Koman works at Rikshospitalet (874716782) and Ullevål (974589095), both part of OUS (993467049).
const MAGNAR = { fnr: '04056600324', hpr: '9144900', name: 'Magnar Koman' };
const AUGUST = { fnr: '20086600138', hpr: '9144897' };
const OUS = '993467049';
const RIKSHOSPITALET = '874716782';
const ULLEVAL = '974589095';
const HAUKELAND = '974557746';
const FAGERSTA = '100100673';
/** Added by the test: an organisation outside the health network. */
const OUTSIDE_NETWORK = '910000004';
const PATIENT = '13116900216';

const NOW = new Date('2026-03-02T10:00:00Z');
const NOW_S = NOW.getTime() / 1000;

const org = (id: string) => ({ id, system: ENH });

/** A complete attestation by Magnar Koman at Rikshospitalet about Line Danser, treated at Ullevål. */
function fullAttestation(): TillitsrammeverkAttestation {
  return {
    type: TYPE,
    practitioner: {
      identifier: { id: MAGNAR.fnr, name: MAGNAR.name, system: FNR, authority: 'Skatteetaten' },
      hpr_nr: { id: MAGNAR.hpr, system: HPR, authority: 'Helsedirektoratet' },
      authorization: { code: 'LE', system: `${VOLVEN}9060`, text: 'Lege' },
      legal_entity: org(OUS),
      point_of_care: org(RIKSHOSPITALET),
      department: { id: '705592', system: RESH },
    },
    care_relationship: {
      healthcare_service: { code: 'S03', system: `${VOLVEN}8655` },
      purpose_of_use: { code: 'TREAT', system: PURPOSE_OF_USE },
      purpose_of_use_details: { code: 'POLBESOK', system: CARE_RELATION },
      decision_ref: { id: '30F4AB40-DBC2-41A7-8AC4-181AD3FDC25B', user_selected: false },
    },
    patients: [
      {
        identifier: { id: PATIENT, system: FNR },
        point_of_care: org(ULLEVAL),
        department: { id: '109765', system: RESH },
      },
    ],
    toa: NOW_S - 60,
  };
}

/** fullAttestation changed by `change`. */
function variant(change: (attestation: TillitsrammeverkAttestation) => void): TillitsrammeverkAttestation {
  const attestation = fullAttestation();
  change(attestation);
  return attestation;
}

/** Breaks the typing on purpose, for attestations that did not pass the schema (e.g. from a test token). */
function untyped(value: unknown): TillitsrammeverkAttestation {
  return value as TillitsrammeverkAttestation;
}

let dataDir: string;
let database: DatabaseHandle;
let sandboxes: Sandboxes;
let sandbox: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'navet-attestation-'));
  database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir });
  sandboxes = new Sandboxes(database, new ResourceStore(database.db, database.engine), FIXTURES, SANDBOX_SEEDING);
  sandbox = `att-${process.pid}-${Date.now().toString(36)}`;
  await sandboxes.create({ name: sandbox, seed: 'fixtures', generator: { syntheticPatients: 0 } });
  await sandboxes.store.create(
    sandbox,
    organizationResource({
      orgnr: OUTSIDE_NETWORK,
      name: 'Utenfor Nettet Klinikk AS',
      kind: 'gp-office',
      healthNetworkMember: false,
      address: { postalCode: '0150', city: 'Oslo', municipality: 'Oslo' },
    }),
    NOW.toISOString(),
    `org-${OUTSIDE_NETWORK}`,
  );
});

afterAll(async () => {
  await sandboxes?.delete(sandbox).catch(() => undefined);
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A user flow: Magnar Koman logged in, asking about PATIENT. */
function userFlow(extra: Partial<RuleContext> = {}): RuleContext {
  return {
    sandbox,
    store: sandboxes.store,
    now: NOW,
    user: { pid: MAGNAR.fnr, hprNumber: MAGNAR.hpr },
    patientNin: PATIENT,
    ...extra,
  };
}
/** A client_credentials flow: no user. */
function systemFlow(extra: Partial<RuleContext> = {}): RuleContext {
  return { sandbox, store: sandboxes.store, now: NOW, patientNin: PATIENT, ...extra };
}

/** The distinct rule ids violated, sorted. */
async function violated(attestation: TillitsrammeverkAttestation, context: RuleContext): Promise<string[]> {
  const violations = await checkAttestationRules(attestation, context);
  return [...new Set(violations.map((v) => v.rule))].sort();
}

function parseError(value: unknown): TrustError {
  try {
    parseAuthorizationDetails(value, 'client assertion assertion_details');
  } catch (error) {
    if (error instanceof TrustError) return error;
    throw error;
  }
  throw new Error('expected a TrustError');
}

describe('parseAuthorizationDetails', () => {
  test('one object: the attestation, no warnings', () => {
    const result = parseAuthorizationDetails(fullAttestation(), 'client assertion assertion_details');
    expect(result.attestation).toEqual(fullAttestation());
    expect(result.details).toEqual([fullAttestation()]);
    expect(result.warnings).toEqual([]);
    expect(result.childOrganization).toBeUndefined();
    expect(result.journalId).toBeUndefined();
  });

  test('an array with the three types', () => {
    const childOrg = {
      type: 'helseid_authorization',
      practitioner_role: { organization: { identifier: { system: ENH, type: 'ENH', value: RIKSHOSPITALET } } },
    };
    const journal = { type: 'nhn:sfm:journal-id', journal_id: '9b2f1c8e-3c1a-4d7e-9f1b-2a6b0c3d4e5f' };
    const result = parseAuthorizationDetails([fullAttestation(), childOrg, journal], 'authorization_details');
    expect(result.attestation?.practitioner.legal_entity.id).toBe(OUS);
    expect(result.childOrganization).toBe(RIKSHOSPITALET);
    expect(result.journalId).toBe('9b2f1c8e-3c1a-4d7e-9f1b-2a6b0c3d4e5f');
    expect(result.details).toEqual([fullAttestation(), childOrg, journal]);
  });

  test('the JSON string form of authorization_details is read too', () => {
    expect(parseAuthorizationDetails(JSON.stringify([fullAttestation()]), 'authorization_details').attestation).toEqual(
      fullAttestation(),
    );
  });

  test('multi-tenant child organisation: NO:ORGNR:<parent>:<child> in urn:oid:1.0.6523', () => {
    const details = {
      type: 'helseid_authorization',
      practitioner_role: {
        organization: { identifier: { system: 'urn:oid:1.0.6523', value: `NO:ORGNR:${OUS}:${ULLEVAL}` } },
      },
    };
    expect(parseAuthorizationDetails(details, 'x').childOrganization).toBe(ULLEVAL);
  });

  test('a helseid_authorization without a usable organisation is refused', () => {
    const error = parseError({
      type: 'helseid_authorization',
      practitioner_role: { organization: { identifier: { system: 'urn:oid:1.0.6523', value: '993467049' } } },
    });
    expect(error.code).toBe('NAVET-AUTHORIZATION-DETAILS');
    expect(error.description).toContain('NO:ORGNR:<parent orgnr>:<child orgnr>');
  });

  test('nhn:sfm:journal-id without journal_id is refused', () => {
    expect(parseError({ type: 'nhn:sfm:journal-id' }).code).toBe('NAVET-AUTHORIZATION-DETAILS');
  });

  test('client bug: practitioner.auhtorization is read as authorization, with a warning', () => {
    const sent = variant((a) => {
      const practitioner = a.practitioner as Record<string, unknown>;
      practitioner.auhtorization = practitioner.authorization;
      delete practitioner.authorization;
    });
    const result = parseAuthorizationDetails(sent, 'client assertion assertion_details');
    expect(result.attestation?.practitioner.authorization).toEqual({
      code: 'LE',
      system: `${VOLVEN}9060`,
      text: 'Lege',
    });
    expect(result.attestation?.practitioner).not.toHaveProperty('auhtorization');
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('practitioner.auhtorization');
    expect(result.details[0]).toEqual(sent);
  });

  test('client bug: decision_ref.ref_id is read as id, with a warning', () => {
    const sent = untyped({
      ...fullAttestation(),
      care_relationship: {
        ...fullAttestation().care_relationship,
        decision_ref: { ref_id: 'abc-123', user_selected: true },
      },
    });
    const result = parseAuthorizationDetails(sent, 'client assertion assertion_details');
    expect(result.attestation?.care_relationship.decision_ref).toEqual({ id: 'abc-123', user_selected: true });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('decision_ref.ref_id');
  });

  test('unknown extra properties are kept', () => {
    const sent = untyped({
      ...fullAttestation(),
      vendor_extra: { a: 1 },
      practitioner: { ...fullAttestation().practitioner, nickname: 'MK' },
    });
    const result = parseAuthorizationDetails(sent, 'x');
    expect(result.attestation?.vendor_extra).toEqual({ a: 1 });
    expect(result.warnings).toEqual([]);
  });

  test('the minimal client form of the spec fits the schema', () => {
    const minimal = {
      type: TYPE,
      practitioner: {
        authorization: { code: 'LE', system: `${VOLVEN}9060` },
        legal_entity: org(OUS),
        point_of_care: org(RIKSHOSPITALET),
      },
      care_relationship: {
        purpose_of_use: { code: 'TREAT', system: PURPOSE_OF_USE },
        healthcare_service: { code: 'S03', system: `${VOLVEN}8655` },
        decision_ref: { id: 'x', user_selected: false },
      },
      patients: [{}],
    };
    expect(parseAuthorizationDetails(minimal, 'x').attestation).toEqual(minimal);
  });

  test('schema errors name the JSON path and what to send', () => {
    const missing = parseError(
      variant((a) => {
        delete (a.practitioner as Partial<TillitsrammeverkAttestation['practitioner']>).legal_entity;
      }),
    );
    expect(missing.error).toBe('invalid_request');
    expect(missing.code).toBe('NAVET-ATTESTATION-SCHEMA');
    expect(missing.status).toBe(400);
    expect(missing.description).toContain('client assertion assertion_details');
    expect(missing.description).toContain('practitioner.legal_entity is missing');
    expect(missing.description).toContain(`Send e.g. {"id":"${OUS}","system":"${ENH}"}`);

    const wrongTypes = parseError(
      untyped({ ...fullAttestation(), patients: [{ identifier: { id: 13116900216, system: FNR } }], toa: 'now' }),
    );
    expect(wrongTypes.description).toContain('patients[0].identifier.id must be a string');
    expect(wrongTypes.description).toContain('toa must be a number');

    const nested = parseError(
      variant((a) => {
        (a.care_relationship.decision_ref as Record<string, unknown>).user_selected = 'yes';
      }),
    );
    expect(nested.description).toContain('care_relationship.decision_ref.user_selected must be a boolean');

    const noSystem = parseError(
      variant((a) => {
        delete (a.practitioner.point_of_care as Partial<{ system: string }>).system;
      }),
    );
    expect(noSystem.description).toContain(
      `practitioner.point_of_care.system is missing. Send e.g. practitioner.point_of_care = {"id":"${RIKSHOSPITALET}","system":"${ENH}"}`,
    );

    expect(parseError(untyped({ ...fullAttestation(), patients: [] })).description).toContain(
      'patients must hold at least 1 item',
    );
    expect(parseError({ type: TYPE }).description).toContain('care_relationship is missing');
  });

  test('more than one attestation is refused', () => {
    expect(parseError([fullAttestation(), fullAttestation()]).code).toBe('NAVET-AUTHORIZATION-DETAILS');
  });

  test('unknown type → NAVET-AUTHORIZATION-DETAILS-TYPE', () => {
    const error = parseError([fullAttestation(), { type: 'urn:example:other' }]);
    expect(error.code).toBe('NAVET-AUTHORIZATION-DETAILS-TYPE');
    expect(error.description).toContain('client assertion assertion_details[1]');
  });

  test.each([42, null, true, 'not json', [1], [{ no_type: 1 }]])(
    'not objects with a type (%p) → NAVET-AUTHORIZATION-DETAILS',
    (value) => {
      expect(parseError(value).code).toBe('NAVET-AUTHORIZATION-DETAILS');
    },
  );
});

describe('checkAttestationRules: complete attestations pass', () => {
  test('the full attestation, in a user flow and a client_credentials flow', async () => {
    expect(await checkAttestationRules(fullAttestation(), userFlow())).toEqual([]);
    expect(await checkAttestationRules(fullAttestation(), systemFlow())).toEqual([]);
  });

  test("the spec's wire-format example, with Magnar Koman logged in", async () => {
    const example = variant((a) => {
      delete a.practitioner.identifier;
      delete a.practitioner.hpr_nr;
      delete a.toa;
      a.patients = [{ point_of_care: org(ULLEVAL), department: { id: '109765', system: RESH } }];
    });
    expect(await violated(example, userFlow())).toEqual([]);
  });
});

describe('practitioner rules', () => {
  test('ATT-10: practitioner.identifier system FNR or DNR only', async () => {
    expect(
      await violated(
        variant((a) => {
          a.practitioner.identifier!.system = DNR;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.identifier!.system = HPR;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-10']);
  });

  test('ATT-11 (user flow): practitioner.identifier, if sent, is the logged-in user', async () => {
    expect(
      await violated(
        variant((a) => {
          delete a.practitioner.identifier;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.identifier!.id = AUGUST.fnr;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-11']);
  });

  test('ATT-11 (client_credentials): practitioner.identifier is required and registered', async () => {
    expect(await violated(fullAttestation(), systemFlow())).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.practitioner.identifier;
        }),
        systemFlow(),
      ),
    ).toEqual(['ATT-11']);
    const notPractitioner = variant((a) => {
      a.practitioner.identifier!.id = PATIENT;
      delete a.practitioner.hpr_nr;
    });
    const violations = await checkAttestationRules(notPractitioner, systemFlow());
    expect(violations.map((v) => v.rule)).toEqual(['ATT-11']);
    expect(violations[0]).toMatchObject({ element: 'practitioner.identifier' });
    expect(violations[0].text).toMatch(/^ATT-11: .*not health personnel/);
  });

  test('ATT-29: hpr_nr in the HPR system, belonging to the person', async () => {
    expect(
      await violated(
        variant((a) => {
          a.practitioner.hpr_nr!.system = FNR;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-29']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.hpr_nr!.id = AUGUST.hpr;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-29']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.hpr_nr!.id = AUGUST.hpr;
        }),
        systemFlow(),
      ),
    ).toEqual(['ATT-29']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.hpr_nr!.id = '1234567';
        }),
        systemFlow(),
      ),
    ).toEqual(['ATT-29']);
  });

  test('ATT-29: hpr_nr is required without a login when the registry shows one; in user flows the login gives it', async () => {
    const withoutHpr = variant((a) => {
      delete a.practitioner.hpr_nr;
    });
    expect(await violated(withoutHpr, userFlow())).toEqual([]);
    const violations = await checkAttestationRules(withoutHpr, systemFlow());
    expect(violations.map((v) => v.rule)).toEqual(['ATT-29']);
    expect(violations[0].text).toContain(`"id": "${MAGNAR.hpr}"`);
  });

  test("ATT-32: authorization in Volven 9060, matching the person's HPR authorisation", async () => {
    expect(
      await violated(
        variant((a) => {
          a.practitioner.authorization!.system = `${VOLVEN}9999`;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-32']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.authorization!.code = 'SP';
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-32']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.authorization!.code = 'SP';
        }),
        systemFlow(),
      ),
    ).toEqual(['ATT-32']);
  });

  test('ATT-32: authorization is required when the registry shows one', async () => {
    const withoutAuthorization = variant((a) => {
      delete a.practitioner.authorization;
    });
    expect(await violated(withoutAuthorization, userFlow())).toEqual(['ATT-32']);
    expect(await violated(withoutAuthorization, systemFlow())).toEqual(['ATT-32']);
  });
});

describe('organisation rules', () => {
  /** Magnar at the given units, with no patient units (so only the practitioner's units are judged). */
  const at = (legal: string, pointOfCare: string) =>
    variant((a) => {
      a.practitioner.legal_entity = org(legal);
      a.practitioner.point_of_care = org(pointOfCare);
      a.patients = [{}];
    });

  test('ATT-12: legal_entity is a registered main unit in the health network', async () => {
    expect(await violated(at(OUS, RIKSHOSPITALET), userFlow())).toEqual([]);
    expect(await violated(at('999999999', '999999999'), userFlow())).toEqual(['ATT-12', 'ATT-19']);
    expect(await violated(at(OUTSIDE_NETWORK, OUTSIDE_NETWORK), userFlow())).toEqual(['ATT-12']);
    const subUnit = await checkAttestationRules(at(RIKSHOSPITALET, RIKSHOSPITALET), userFlow());
    expect(subUnit.map((v) => v.rule)).toEqual(['ATT-12']);
    expect(subUnit[0].text).toContain(`send the main unit ${OUS}`);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.legal_entity.system = RESH;
          a.patients = [{}];
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-12']);
  });

  test('ATT-19: point_of_care is a sub-unit of legal_entity, or equals it when there are none', async () => {
    expect(await violated(at(OUS, ULLEVAL), userFlow())).toEqual([]);
    expect(await violated(at(FAGERSTA, FAGERSTA), userFlow())).toEqual([]);
    const itself = await checkAttestationRules(at(OUS, OUS), userFlow());
    expect(itself.map((v) => v.rule)).toEqual(['ATT-19']);
    expect(itself[0].text).toContain(RIKSHOSPITALET);
    expect(await violated(at(OUS, HAUKELAND), userFlow())).toEqual(['ATT-19']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.point_of_care = { id: RIKSHOSPITALET, system: RESH };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-19']);
  });

  test('ATT-28: department is RESH or a local id with the orgnr as authority', async () => {
    expect(
      await violated(
        variant((a) => {
          a.practitioner.department = { id: 'KIR-3', system: 'urn:example:local', authority: RIKSHOSPITALET };
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.practitioner.department;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.department = { id: 'KIR-3', system: 'urn:example:local', authority: 'Skatteetaten' };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-28']);
    expect(
      await violated(
        variant((a) => {
          a.practitioner.department = { id: 'KIR-3', system: 'urn:example:local' };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-28']);
  });
});

describe('care relationship rules', () => {
  test('ATT-37: healthcare_service in one of the Volven lists; 8627 is retired', async () => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.healthcare_service = { code: '1', system: `${VOLVEN}8451` };
        }),
        userFlow(),
      ),
    ).toEqual([]);
    const retired = await checkAttestationRules(
      variant((a) => {
        a.care_relationship.healthcare_service = { code: '1', system: `${VOLVEN}8627` };
      }),
      userFlow(),
    );
    expect(retired.map((v) => v.rule)).toEqual(['ATT-37']);
    expect(retired[0].text).toContain('retired');
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.healthcare_service = { code: '1', system: `${VOLVEN}9060` };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-37']);
  });

  test.each(['TREAT', 'ETREAT', 'COC', 'BTG'])('purpose_of_use %s passes', async (code) => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use.code = code;
        }),
        userFlow(),
      ),
    ).toEqual([]);
  });

  test('ATT-38: purpose_of_use is required', async () => {
    const missing = untyped({
      ...fullAttestation(),
      care_relationship: { ...fullAttestation().care_relationship, purpose_of_use: undefined },
    });
    expect(await violated(missing, userFlow())).toEqual(['ATT-38']);
  });

  test('ATT-39: purpose_of_use system', async () => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use.system = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-39']);
  });

  test('ATT-40: purpose_of_use code', async () => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use.code = 'HRESCH';
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-40']);
  });

  test('ATT-41: purpose_of_use_details care-relation codes or Volven 9151', async () => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use_details = { code: 'BEHANDLER', system: CARE_RELATION };
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use_details = { code: '1', system: `${VOLVEN}9151` };
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use_details = { code: 'NABO', system: CARE_RELATION };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-41']);
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.purpose_of_use_details = { code: 'BEHANDLER', system: 'urn:example' };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-41']);
  });

  test('ATT-43: healthcare_service or purpose_of_use_details', async () => {
    expect(
      await violated(
        variant((a) => {
          delete a.care_relationship.healthcare_service;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.care_relationship.purpose_of_use_details;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    const neither = await checkAttestationRules(
      variant((a) => {
        delete a.care_relationship.healthcare_service;
        delete a.care_relationship.purpose_of_use_details;
      }),
      userFlow(),
    );
    expect(neither).toEqual([
      {
        rule: 'ATT-43',
        element: 'care_relationship',
        text: 'ATT-43: care_relationship must contain healthcare_service or purpose_of_use_details; neither was sent',
      },
    ]);
  });

  test('ATT-48: decision_ref with an id and a boolean user_selected', async () => {
    expect(
      await violated(
        variant((a) => {
          a.care_relationship.decision_ref.user_selected = true;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    const bad = untyped({
      ...fullAttestation(),
      care_relationship: { ...fullAttestation().care_relationship, decision_ref: { user_selected: 'no' } },
    });
    const violations = await checkAttestationRules(bad, userFlow());
    expect(violations.map((v) => [v.rule, v.element])).toEqual([
      ['ATT-48', 'care_relationship.decision_ref.id'],
      ['ATT-48', 'care_relationship.decision_ref.user_selected'],
    ]);
    const missing = untyped({
      ...fullAttestation(),
      care_relationship: { ...fullAttestation().care_relationship, decision_ref: undefined },
    });
    expect(await violated(missing, userFlow())).toEqual(['ATT-48']);
  });
});

describe('patient rules', () => {
  test("ATT-51: the patient's point_of_care only at the practitioner's own unit (legal entity or its sub-units)", async () => {
    expect(
      await violated(
        variant((a) => {
          a.patients[0].point_of_care = org(RIKSHOSPITALET);
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.patients = [{ identifier: { id: PATIENT, system: FNR } }];
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.patients[0].point_of_care = org(HAUKELAND);
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-51']);
    expect(
      await violated(
        variant((a) => {
          a.patients[0].point_of_care = { id: ULLEVAL, system: RESH };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-51']);
  });

  test("ATT-56: the patient's department only with the own unit's point_of_care", async () => {
    expect(
      await violated(
        variant((a) => {
          a.patients[0].department = { id: 'POL-1', system: 'urn:example:local', authority: ULLEVAL };
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.patients[0].point_of_care;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-56']);
    expect(
      await violated(
        variant((a) => {
          a.patients[0].department = { id: 'POL-1', system: 'urn:example:local', authority: HAUKELAND };
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-56']);
  });

  test('ATT-4: patient identifier FNR/DNR/H-number, bound to the patient of the request', async () => {
    expect(
      await violated(
        variant((a) => {
          a.patients[0].identifier = { id: '01415012345', system: HNR };
        }),
        userFlow({ patientNin: '01415012345' }),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.patients[0].identifier;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(await violated(fullAttestation(), userFlow({ patientNin: undefined }))).toEqual([]);
    const otherPatient = await checkAttestationRules(fullAttestation(), userFlow({ patientNin: '12119000465' }));
    expect(otherPatient.map((v) => [v.rule, v.element])).toEqual([['ATT-4', 'patients[0].identifier']]);
    expect(
      await violated(
        variant((a) => {
          a.patients[0].identifier!.system = HPR;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-4']);
  });
});

describe('ATT-58: time of attestation', () => {
  test('valid for 60 minutes by the sandbox clock', async () => {
    expect(
      await violated(
        variant((a) => {
          a.toa = NOW_S - 59 * 60;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          delete a.toa;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    const expired = await checkAttestationRules(
      variant((a) => {
        a.toa = NOW_S - 61 * 60;
      }),
      userFlow(),
    );
    expect(expired.map((v) => v.rule)).toEqual(['ATT-58']);
    expect(expired[0].text).toContain('attestation_has_expired');
    // the same attestation is fine when the sandbox clock is an hour earlier
    expect(
      await violated(
        variant((a) => {
          a.toa = NOW_S - 61 * 60;
        }),
        userFlow({ now: new Date(NOW.getTime() - 3600_000) }),
      ),
    ).toEqual([]);
  });

  test('more than 5 minutes in the future is refused', async () => {
    expect(
      await violated(
        variant((a) => {
          a.toa = NOW_S + 4 * 60;
        }),
        userFlow(),
      ),
    ).toEqual([]);
    expect(
      await violated(
        variant((a) => {
          a.toa = NOW_S + 10 * 60;
        }),
        userFlow(),
      ),
    ).toEqual(['ATT-58']);
    const milliseconds = await checkAttestationRules(
      variant((a) => {
        a.toa = NOW.getTime();
      }),
      userFlow(),
    );
    expect(milliseconds.map((v) => v.rule)).toEqual(['ATT-58']);
    expect(milliseconds[0].text).toContain('milliseconds');
  });
});

describe('accessContextFromAttestation', () => {
  test('maps the attestation into the AccessContext parts', () => {
    expect(accessContextFromAttestation(fullAttestation())).toEqual({
      practitioner: {
        pid: MAGNAR.fnr,
        hprNumber: MAGNAR.hpr,
        name: MAGNAR.name,
        authorization: { code: 'LE', system: `${VOLVEN}9060`, display: 'Lege' },
        authenticated: false,
      },
      organisation: {
        legalEntity: org(OUS),
        pointOfCare: org(RIKSHOSPITALET),
        department: { id: '705592', system: RESH },
      },
      careRelationship: {
        purposeOfUse: { code: 'TREAT', system: PURPOSE_OF_USE },
        healthcareService: { code: 'S03', system: `${VOLVEN}8655` },
        purposeOfUseDetails: { code: 'POLBESOK', system: CARE_RELATION },
        decisionRef: { id: '30F4AB40-DBC2-41A7-8AC4-181AD3FDC25B', userSelected: false },
      },
      patient: { nin: PATIENT, pointOfCare: org(ULLEVAL), department: { id: '109765', system: RESH } },
      attestedAt: new Date((NOW_S - 60) * 1000),
    });
  });

  test('a minimal attestation: name from the caller, no patient', () => {
    const context = accessContextFromAttestation(
      variant((a) => {
        delete a.practitioner.identifier;
        delete a.toa;
        a.patients = [{}];
      }),
      'Magnar Koman',
    );
    expect(context.practitioner).toMatchObject({ name: 'Magnar Koman', authenticated: false });
    expect(context.practitioner?.pid).toBeUndefined();
    expect(context.patient).toBeUndefined();
    expect(context.attestedAt).toBeUndefined();
  });
});

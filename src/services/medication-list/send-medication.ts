import type { Request, Response } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, FhirError } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { medicationId, medicationResource } from './fest-catalogue';
import {
  authorOf as versionAuthor,
  identifierValue,
  isLocked,
  isMultidose,
  pllList,
  pllListId,
  readLookup,
  readPll,
  recordLookup,
  versionOf,
} from './pll-store';
import { readMedicationBundle, type SentStatement } from './read-medication-bundle';
import { LOOKUP_VALID_MS, PROFILE } from './sfm-codes';
import { authorOf, patientByNin, type SfmContext } from './sfm-context';
import { parametersOf } from './sfm-parameters';

/**
 * `POST <sfm>/Patient/$sendMedication` with the reconciled `medication` Bundle. Refused (nothing stored) when
 * the Bundle breaks the sfm profiles, names an unknown FEST id or another patient; when the organisation
 * did not look the patient up in Reseptformidleren within 4 hours (sandbox clock); when it is based on an
 * older PLL version than the current one (409, saying who reconciled meanwhile and when); or when a
 * head-of-chain statement (an entry of the current list) is missing. Otherwise one new PLL version: the
 * List is updated with the version the send is based on as expected version, so of two sends from the
 * same version exactly one wins. Locked prescriptions the sender did not see are carried over unchanged.
 * Result codes, refnum and the meaning of the counts are *unverified*: "OK", a number derived from the
 * ReseptId, new prescriptions and recalled (stopped) prescriptions.
 */
const REMOVED = new Set(['completed', 'stopped', 'entered-in-error']);

function sentBundleOf(body: unknown): FhirResource {
  const params = parametersOf(body, ['medication'], '$sendMedication');
  const medication = params.filter((p) => p.name === 'medication');
  if (medication.length !== 1)
    throw badRequest('NAVET-SFM-PARAMETERS', 'Send exactly one parameter "medication" holding the medication Bundle', [
      'Parameters.parameter',
    ]);
  const bundle = medication[0].resource;
  if (!bundle || bundle.resourceType !== 'Bundle' || !Array.isArray(bundle.entry)) {
    throw badRequest('NAVET-SFM-PARAMETERS', 'medication must carry a Bundle (sfm-MedicationBundle) with entries', [
      `Parameters.parameter[${medication[0].index}].resource`,
    ]);
  }
  return bundle;
}

/** The patient a $sendMedication names, for logging a rejected one. */
export function sentPatientNin(body: unknown): string | undefined {
  const params = (
    body as { parameter?: { name?: string; resource?: { entry?: { resource?: FhirResource }[] } }[] } | undefined
  )?.parameter;
  const entries = Array.isArray(params) ? params.find((p) => p?.name === 'medication')?.resource?.entry : undefined;
  const patient = Array.isArray(entries)
    ? entries.find((e) => e?.resource?.resourceType === 'Patient')?.resource
    : undefined;
  const value = (patient?.identifier as { system?: string; value?: unknown }[] | undefined)?.find(
    (i) => i?.system === SYSTEMS.fnr || i?.system === SYSTEMS.dnr,
  )?.value;
  return typeof value === 'string' ? value : undefined;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
const content = (r: FhirResource) => canonical({ ...r, id: undefined, meta: undefined });

function conflictError(base: number, current: FhirResource | undefined): FhirError {
  const { who, when } = versionAuthor(current);
  return new FhirError(409, [
    {
      severity: 'error',
      code: 'conflict',
      navetCode: 'NAVET-SFM-PLL-CONFLICT',
      text: `The PLL changed after the version your send is based on (${base}): version ${versionOf(current)} was reconciled by ${who} at ${when}. Nothing was stored: look the patient up again ($getMedication), reconcile against the new version and send again`,
      expression: ['Bundle'],
    },
  ]);
}

const refnumOf = (reseptId: string) =>
  String(parseInt(createHash('sha1').update(reseptId).digest('hex').slice(0, 10), 16))
    .padStart(12, '0')
    .slice(-12);

async function statementByPllId(
  store: ResourceStore,
  sandbox: string,
  pllId: string,
): Promise<FhirResource | undefined> {
  const found = await store.search(sandbox, {
    ...parseSearchRequest('MedicationStatement', [['identifier', pllId]]),
    count: 5,
    totalNone: true,
  });
  return found.matches.find((s) => identifierValue(s, 'PLL') === pllId);
}

export async function sendMedication(
  context: SfmContext,
  req: Request,
  res: Response,
  access: AccessContext,
  store: ResourceStore,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const sent = readMedicationBundle(sentBundleOf(req.body));
  const patient = await patientByNin(store, sandbox.name, sent.nin);
  const patientId = patient.id as string;
  const author = await authorOf(access, store, sandbox.name);
  const clock = sandbox.clock.now();
  const now = clock.toISOString();

  // the 4-hour rule: an RF look-up by this organisation for this patient
  const lookup = await readLookup(store, sandbox.name, author.orgnr, patientId);
  const age = lookup ? clock.getTime() - Date.parse(lookup.at) : Number.POSITIVE_INFINITY;
  if (!lookup || age > LOOKUP_VALID_MS) {
    throw new FhirError(422, [
      {
        severity: 'error',
        code: 'business-rule',
        navetCode: 'NAVET-SFM-NO-LOOKUP',
        text: `${author.orgName} (${author.orgnr}) has ${lookup ? `not looked this patient up since ${lookup.at}, more than 4 hours ago by the sandbox clock` : 'not looked this patient up'}: call $getMedication (with Reseptformidleren answering) first, then send within 4 hours`,
      },
    ]);
  }
  const current = await readPll(store, sandbox.name, patientId);
  // a send cannot be based on a version newer than the organisation's last look-up saw
  const base = Math.min(sent.baseVersion ?? lookup.seenVersion, lookup.seenVersion);
  if (base > current.version)
    throw badRequest(
      'NAVET-SFM-PLL-INFO',
      `The send is based on PLL version ${base}, but the newest is ${current.version}`,
      ['Bundle'],
    );
  if (base < current.version) throw conflictError(base, current.list);

  // head of chain: every entry of the current list must come back (locked ones the sender may not see)
  const sentIds = new Set(sent.statements.map((s) => s.pllId));
  const missing = current.statements.filter((s) => !isLocked(s) && !sentIds.has(identifierValue(s, 'PLL') ?? ''));
  if (missing.length > 0) {
    throw new FhirError(422, [
      {
        severity: 'error',
        code: 'business-rule',
        navetCode: 'NAVET-SFM-HEAD-OF-CHAIN',
        text: `Every head-of-chain statement of PLL version ${current.version} must be sent back (changed, unchanged or stopped); missing: ${missing.map((s) => `PLL ${identifierValue(s, 'PLL')} (${String((s.medicationReference as { display?: string } | undefined)?.display ?? '')})`).join(', ')}`,
        expression: [
          "Bundle.entry.resource.ofType(Composition).section.where(code.coding.code='sectionMedication').entry",
        ],
      },
    ]);
  }

  const byPllId = new Map(current.statements.map((s) => [identifierValue(s, 'PLL') as string, s]));
  const currentResepts = new Set(current.statements.map((s) => identifierValue(s, 'ReseptId')).filter(Boolean));
  const prepared: { sent: SentStatement; existing?: FhirResource; resource: FhirResource }[] = [];
  const otherPatient: string[] = [];
  for (const item of sent.statements) {
    let existing = byPllId.get(item.pllId);
    if (!existing) {
      existing = await statementByPllId(store, sandbox.name, item.pllId);
      if (existing && (existing.subject as { reference?: string }).reference !== `Patient/${patientId}`) {
        otherPatient.push(`Bundle.entry[${item.index}].resource.identifier`);
        continue;
      }
    }
    const { id: _id, meta: _meta, medicationCodeableConcept: _concept, ...rest } = item.resource;
    const resource: FhirResource = {
      ...rest,
      resourceType: 'MedicationStatement',
      id: (existing?.id as string | undefined) ?? randomUUID(),
      meta: {
        profile: [PROFILE.statement],
        ...(existing && isLocked(existing) ? { tag: existing.meta?.tag } : {}),
      },
      medicationReference: {
        reference: `Medication/${medicationId(item.medicine.festId)}`,
        display: item.medicine.name,
      },
      subject: {
        reference: `Patient/${patientId}`,
        identifier: { system: identifierSystemOf(sent.nin), value: sent.nin },
      },
    };
    prepared.push({ sent: item, existing, resource });
  }
  if (otherPatient.length > 0) {
    throw new FhirError(
      400,
      otherPatient.map((expression) => ({
        severity: 'error',
        code: 'invalid',
        navetCode: 'NAVET-SFM-OTHER-PATIENT',
        text: "This PLL id belongs to another patient's list; a new entry needs a new PLL id (a GUID)",
        expression: [expression],
      })),
    );
  }

  // write: statements (new versions only where changed), the catalogue Medications, then the List
  const listed: FhirResource[] = [];
  const results: { reseptId: string; recalled: boolean }[] = [];
  try {
    for (const item of prepared) {
      const medication = medicationResource(item.sent.medicine);
      if (!(await store.find(sandbox.name, 'Medication', medication.id as string)))
        await store.update(sandbox.name, medication, now);
      let stored = item.existing;
      if (!item.existing || content(item.existing) !== content(item.resource)) {
        stored = (
          await store.update(sandbox.name, item.resource, now, item.existing ? versionOf(item.existing) : undefined)
        ).resource;
      }
      const removed = REMOVED.has(String(item.resource.status));
      if (!removed) listed.push(stored as FhirResource);
      const reseptId = item.sent.reseptId;
      if (reseptId && removed && item.existing && !REMOVED.has(String(item.existing.status)))
        results.push({ reseptId, recalled: true });
      if (reseptId && !removed && !currentResepts.has(reseptId)) results.push({ reseptId, recalled: false });
    }
    listed.push(...current.statements.filter((s) => isLocked(s) && !sentIds.has(identifierValue(s, 'PLL') ?? '')));
    const messageId = randomUUID();
    const list = pllList({
      patient,
      nin: sent.nin,
      statements: listed,
      date: now,
      author,
      messageId,
      multidose: isMultidose(current.list),
    });
    const written = (await store.update(sandbox.name, list, now, current.version > 0 ? current.version : undefined))
      .resource;
    await recordLookup(
      store,
      sandbox.name,
      { orgnr: author.orgnr, orgName: author.orgName, patientId, at: lookup.at, seenVersion: versionOf(written) },
      now,
    );
    const parameters: Record<string, unknown>[] = [
      { name: 'prescriptionCount', valueInteger: results.filter((r) => !r.recalled).length },
      { name: 'recallCount', valueInteger: results.filter((r) => r.recalled).length },
      {
        name: 'PllResult',
        part: [
          { name: 'PllmessageID', valueString: messageId },
          { name: 'resultCode', valueString: 'OK' },
          { name: 'pllVersion', valueString: String(versionOf(written)) },
          ...(isMultidose(current.list) ? [{ name: 'multidose', valueBoolean: true }] : []),
        ],
      },
      ...results.map((r) => ({
        name: 'prescriptionOperationResult',
        part: [
          { name: 'reseptID', valueString: r.reseptId },
          { name: 'refnum', valueString: refnumOf(r.reseptId) },
          { name: 'resultCode', valueString: r.recalled ? 'RECALLED' : 'OK' },
        ],
      })),
    ];
    return {
      patients: [
        {
          nin: sent.nin,
          id: patientId,
          resources: [`List/${pllListId(patientId)}`, ...listed.map((s) => `MedicationStatement/${s.id}`)],
        },
      ],
      send: (r: Response) => sendFhir(req, r, 200, { resourceType: 'Parameters', parameter: parameters }),
    };
  } catch (error) {
    // another send for the same patient won the race (the store's optimistic concurrency): say who
    if (
      error instanceof FhirError &&
      (error.status === 409 || error.status === 412) &&
      error.navetCode !== 'NAVET-SFM-PLL-CONFLICT'
    ) {
      throw conflictError(base, await store.find(sandbox.name, 'List', pllListId(patientId)));
    }
    throw error;
  }
}

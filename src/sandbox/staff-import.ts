import { parse } from 'csv-parse/sync';
import type { FhirContext } from '../fhir/fhir-operations';
import { FhirError, type OutcomeIssue } from '../fhir/operation-outcome';
import { parseSearchRequest } from '../fhir/search-request';
import { processBundle } from '../fhir/transaction';
import { makeSyntheticFodselsnummer } from './fodselsnummer';
import { HEALTH_PERSONNEL_CATEGORIES, SYSTEMS } from '../codes/code-systems';
import { practitionerResources } from './seed/resources';

/**
 * A municipality's own staff list (CSV: name, hpr, authorisation, unit) imported as Practitioners with a
 * PractitionerRole at their unit — staff only, never patients. The list holds no fødselsnumre, so each
 * person gets a synthetic one (Tenor-style, derived from the HPR number) to act with in the sandbox.
 * All rows or none: every bad row is named in one OperationOutcome.
 */
export interface StaffRow {
  name: string;
  hpr: string;
  authorisation: string;
  unit: string;
}

const COLUMNS = ['name', 'hpr', 'authorisation', 'unit'];

function syntheticFnrFor(hpr: string): string {
  const n = Number(hpr);
  const birth = new Date(Date.UTC(1960, 0, 1) + (n % 12000) * 86_400_000).toISOString().slice(0, 10);
  return makeSyntheticFodselsnummer(birth, 500 + (n % 400), n % 2 ? 'male' : 'female');
}

async function unitOrgnr(context: FhirContext, unit: string): Promise<string | undefined> {
  const params: [string, string][] = /^\d{9}$/.test(unit)
    ? [['identifier', `${SYSTEMS.orgnr}|${unit}`]]
    : [['name:exact', unit]];
  const found = await context.store.search(context.sandbox, {
    ...parseSearchRequest('Organization', params),
    count: 2,
    totalNone: true,
  });
  if (found.matches.length !== 1) return undefined;
  return ((found.matches[0].identifier ?? []) as { system?: string; value?: string }[]).find(
    (i) => i.system === SYSTEMS.orgnr,
  )?.value;
}

export async function importStaff(context: FhirContext, csv: string): Promise<{ imported: number }> {
  let rows: Record<string, string>[];
  try {
    rows = parse(csv, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as Record<string, string>[];
  } catch (error) {
    throw new FhirError(400, [
      {
        severity: 'error',
        code: 'invalid',
        navetCode: 'NAVET-STAFF-CSV',
        text: `The staff list is not valid CSV: ${(error as Error).message}`,
      },
    ]);
  }
  const issues: OutcomeIssue[] = [];
  const bad = (row: number, column: string, text: string) =>
    issues.push({
      severity: 'error',
      code: 'invalid',
      navetCode: 'NAVET-STAFF-CSV',
      text: `row ${row}: ${text}`,
      expression: [`row[${row}].${column}`],
    });
  const missing = COLUMNS.filter((c) => rows.length > 0 && !(c in rows[0]));
  if (rows.length === 0 || missing.length) {
    throw new FhirError(400, [
      {
        severity: 'error',
        code: 'invalid',
        navetCode: 'NAVET-STAFF-CSV',
        text: `The staff list needs a header line ${COLUMNS.join(',')} and at least one row${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
      },
    ]);
  }
  const seen = new Set<string>();
  const entries: { resource: Record<string, unknown>; request: { method: 'PUT'; url: string } }[] = [];
  for (const [i, row] of rows.entries()) {
    const line = i + 2;
    const names = (row.name ?? '').split(/\s+/).filter(Boolean);
    if (names.length < 2) bad(line, 'name', 'name must be given name(s) and family name');
    if (!/^\d{5,9}$/.test(row.hpr ?? ''))
      bad(line, 'hpr', `hpr must be an HPR number of 5–9 digits; got ${JSON.stringify(row.hpr ?? '')}`);
    else if (seen.has(row.hpr)) bad(line, 'hpr', `HPR number ${row.hpr} comes twice`);
    seen.add(row.hpr);
    if (!(row.authorisation in HEALTH_PERSONNEL_CATEGORIES))
      bad(
        line,
        'authorisation',
        `authorisation must be a Volven 9060 code (${Object.keys(HEALTH_PERSONNEL_CATEGORIES).join(', ')}); got ${JSON.stringify(row.authorisation ?? '')}`,
      );
    const orgnr = row.unit ? await unitOrgnr(context, row.unit) : undefined;
    if (!orgnr)
      bad(
        line,
        'unit',
        `unit ${JSON.stringify(row.unit ?? '')} is not one organisation of this sandbox (give its orgnr or exact name)`,
      );
    if (issues.length === 0 && orgnr) {
      for (const resource of practitionerResources({
        hpr: row.hpr,
        fnr: syntheticFnrFor(row.hpr),
        given: names.slice(0, -1),
        family: names[names.length - 1],
        authorisation: row.authorisation,
        workplaces: [orgnr],
      })) {
        entries.push({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${String(resource.id)}` } });
      }
    }
  }
  if (issues.length) throw new FhirError(400, issues);
  await processBundle(context, { resourceType: 'Bundle', type: 'transaction', entry: entries }, true);
  return { imported: rows.length };
}

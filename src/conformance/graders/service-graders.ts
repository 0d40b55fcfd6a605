import { idnr } from '@navikt/fnrvalidator';
import { describe, header, nhnHeader, ok, type RecordedExchange } from '../exchange';
import { everyRequest, fail, type Grader, type GradeContext, pass, skip } from '../grading';
import {
  after,
  apiCalls,
  bodyOf,
  followsLink,
  patientOf,
  playedChallenge,
  resourcesIn,
  sandboxSeconds,
  scopeOf,
  tokenRequests,
  withBody,
  within,
} from './traffic';

type Json = Record<string, unknown>;

// Kjernejournal critical information
const kjCalls = (c: GradeContext) => apiCalls(c, 'critical-information');
const isKjRead = (e: RecordedExchange) =>
  e.method === 'GET' && /^\/(AllergyIntolerance|Conditions?|Flag)(\/|$)/.test(e.path);
const isKjStatus = (e: RecordedExchange) => e.method === 'POST' && e.path === '/status';
const accessBasisOf = (e: RecordedExchange) => (nhnHeader(e, 'access-basis') ?? '').toUpperCase();

function userRoleProblem(value: string | undefined): string | undefined {
  if (!value) return 'no nhn-user-role';
  try {
    const role = JSON.parse(decodeURIComponent(value)) as Json;
    return role.system === 'urn:oid:2.16.578.1.12.4.1.1.9060' && typeof role.code === 'string'
      ? undefined
      : `nhn-user-role ${value}`;
  } catch {
    return `nhn-user-role is not URL-encoded JSON: ${value.slice(0, 60)}`;
  }
}

export const KJ_GRADERS: Record<string, Grader> = {
  'KJ-STATUS-FIRST': (c) =>
    everyRequest(
      kjCalls(c).filter((e) => isKjRead(e) && patientOf(e) !== undefined),
      {
        flow: 'critical-information read',
        expected: 'a /status for the same patient before it',
        check: (e) =>
          c.exchanges
            .slice(0, c.exchanges.indexOf(e))
            .some((s) => isKjStatus(s) && ok(s) && patientOf(s) === patientOf(e))
            ? undefined
            : `no /status for ${patientOf(e) ?? 'the patient'} before it`,
      },
    ),
  'KJ-SOURCE-SYSTEM': (c) =>
    everyRequest(kjCalls(c), {
      flow: 'Kjernejournal request',
      expected: 'an nhn-source-system header',
      check: (e) => (nhnHeader(e, 'source-system') ? undefined : 'no nhn-source-system'),
    }),
  'KJ-USER-ROLE': (c) =>
    everyRequest(kjCalls(c), {
      flow: 'Kjernejournal request',
      expected: 'nhn-user-role: URL-encoded {"system":"urn:oid:2.16.578.1.12.4.1.1.9060","code":…}',
      check: (e) => userRoleProblem(nhnHeader(e, 'user-role')),
    }),
  'KJ-PATIENT-HEADER': (c) =>
    everyRequest(kjCalls(c).filter(isKjRead), {
      flow: 'critical-information read',
      expected: 'the patient in nhn-patient-nin',
      check: (e) => (nhnHeader(e, 'patient-nin') ? undefined : 'no nhn-patient-nin'),
    }),
  'KJ-UPDATE-VERSION': (c) =>
    everyRequest(withBody(kjCalls(c).filter((e) => e.method === 'PUT')), {
      flow: 'critical-information update',
      expected: 'meta.versionId of the version changed',
      check: (e) => ((bodyOf(e)?.meta as Json | undefined)?.versionId ? undefined : 'no meta.versionId'),
    }),
  'KJ-CH-BLOCKED-NO-OTHER-BASIS': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const patient = patientOf(played);
    const other = after(c, played).filter(
      (e) =>
        e.service === 'critical-information' && patientOf(e) === patient && accessBasisOf(e) !== accessBasisOf(played),
    );
    return other.length === 0
      ? pass(`No request for the patient under another access basis after the block in ${played.id}`, [played])
      : fail(
          `${describe(other[0])} asked again for the blocked patient under another access basis`,
          [played, ...other.slice(0, 4)],
          `no request for the patient with an access basis other than "${accessBasisOf(played) || '(none)'}"`,
          `nhn-access-basis "${accessBasisOf(other[0]) || '(none)'}"`,
        );
  },
};

// SFM / PLL
const sfmCalls = (c: GradeContext) => withBody(apiCalls(c, 'sfm'));
const isGet = (e: RecordedExchange) => e.method === 'POST' && e.path === '/Patient/$getMedication';
const isSend = (e: RecordedExchange) => e.method === 'POST' && e.path === '/Patient/$sendMedication';
const medicationBundle = (parameters: Json | undefined) =>
  ((parameters?.parameter as { name?: string; resource?: Json }[] | undefined) ?? []).find(
    (p) => p.name === 'medication',
  )?.resource;
const pllIds = (bundle: Json | undefined) =>
  resourcesIn(bundle, 'MedicationStatement').flatMap((s) =>
    ((s.identifier as { type?: { text?: string }; value?: string }[] | undefined) ?? [])
      .filter((i) => i.type?.text === 'PLL')
      .map((i) => String(i.value)),
  );
const lastLookup = (c: GradeContext, e: RecordedExchange) =>
  c.exchanges
    .slice(0, c.exchanges.indexOf(e))
    .filter((g) => isGet(g) && ok(g) && patientOf(g) === patientOf(e))
    .pop();

export const SFM_GRADERS: Record<string, Grader> = {
  'SFM-GET-BEFORE-SEND': (c) =>
    everyRequest(sfmCalls(c).filter(isSend), {
      flow: '$sendMedication',
      expected: 'a successful $getMedication for the patient in the 4 hours before',
      check: (e) => {
        const lookup = lastLookup(c, e);
        return lookup && sandboxSeconds(e) - sandboxSeconds(lookup) <= 4 * 3600
          ? undefined
          : `no $getMedication for ${patientOf(e) ?? 'the patient'} before it`;
      },
    }),
  'SFM-SEND-ALL-STATEMENTS': (c) =>
    everyRequest(sfmCalls(c).filter(isSend), {
      flow: '$sendMedication',
      expected: 'every PLL id of the last $getMedication in the sent Bundle',
      check: (e) => {
        const lookup = lastLookup(c, e);
        if (!lookup) return undefined; // graded by SFM-GET-BEFORE-SEND
        const sent = new Set(pllIds(medicationBundle(bodyOf(e))));
        const missing = pllIds(medicationBundle(lookup.responseBody as Json | undefined)).filter((id) => !sent.has(id));
        return missing.length === 0 ? undefined : `PLL ${missing.join(', ')} of ${lookup.id} left out`;
      },
    }),
  'SFM-DPOP-SCOPE': (c) =>
    everyRequest(
      tokenRequests(c).filter((e) => scopeOf(e).some((s) => s.startsWith('e-helse:sfm.api/'))),
      {
        flow: 'SFM token request',
        expected: 'scope e-helse:sfm.api/sfm.api2 (DPoP), not the deprecated sfm.api',
        check: (e) =>
          scopeOf(e).includes('e-helse:sfm.api/sfm.api')
            ? 'the deprecated Bearer scope e-helse:sfm.api/sfm.api'
            : undefined,
      },
    ),
  'SFM-CH-CONFLICT-REREAD': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 120;
    const next = within(after(c, played), played.atMs, limit).find(
      (e) => (isGet(e) || isSend(e)) && patientOf(e) === patientOf(played),
    );
    if (!next)
      return fail(
        `Nothing was read or sent for the patient within ${limit} s of the conflict in ${played.id}`,
        [played],
        '$getMedication for the patient',
        'nothing',
      );
    return isGet(next)
      ? pass(`${next.id} read the list again after the conflict in ${played.id}`, [played, next])
      : fail(
          `${next.id} sent again without reading the list after the conflict in ${played.id}`,
          [played, next],
          '$getMedication before the next $sendMedication',
          '$sendMedication',
        );
  },
  'SFM-CH-CONFLICT-NO-RESEND': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    if (!played.bodyHash) return skip(`The refused request ${played.id} had no body`);
    const resend = after(c, played).find((e) => isSend(e) && e.bodyHash === played.bodyHash);
    return resend
      ? fail(
          `${resend.id} sent the Bundle refused in ${played.id} again`,
          [played, resend],
          'a Bundle built from a new $getMedication',
          'the same Bundle (same hash)',
        )
      : pass(`The Bundle refused in ${played.id} was not sent again`, [played]);
  },
};

// Pasientens prøvesvar
const ppsSearches = (c: GradeContext) =>
  apiCalls(c, 'pps').filter((e) =>
    /^\/(DiagnosticReport|Observation|Specimen|ServiceRequest)(\/_search)?$/.test(e.path),
  );
const ppsSubmissions = (c: GradeContext) =>
  withBody(apiCalls(c, 'pps').filter((e) => e.method === 'POST' && e.path === '/'));
const CORRELATION_HEADERS = [
  'cid',
  'traceparent',
  'correlation-id',
  'correlationid',
  'correlation',
  'x-correlation-id',
  'x-correlationid',
  'x-correlation',
  'x-request-id',
  'x-requestid',
  'x-request',
];
const submitted = (e: RecordedExchange, type: string) => resourcesIn(bodyOf(e), type);

export const PPS_GRADERS: Record<string, Grader> = {
  'PPS-PERSON-ID': (c) =>
    everyRequest(ppsSearches(c), {
      flow: 'PPS search',
      expected: 'the patient in the person-id header only',
      check: (e) =>
        !header(e, 'person-id')
          ? 'no person-id header'
          : /(^|&)(subject|patient)[.:=]/.test(e.query) ||
              ['subject', 'patient', 'subject:identifier', 'patient.identifier'].some(
                (k) => bodyOf(e)?.[k] !== undefined,
              )
            ? 'the patient also in the query or body'
            : undefined,
    }),
  'PPS-SEARCH-POST': (c) =>
    everyRequest(
      ppsSearches(c).filter((e) => !followsLink(c, e)),
      {
        flow: 'PPS search',
        expected: 'POST …/{type}/_search, form-encoded',
        check: (e) =>
          e.method === 'POST' &&
          e.path.endsWith('/_search') &&
          (!bodyOf(e) || /application\/x-www-form-urlencoded/.test(header(e, 'content-type') ?? ''))
            ? undefined
            : `${e.method} ${e.path}`,
      },
    ),
  'PPS-ACCESS-BASIS': (c) =>
    everyRequest(ppsSearches(c), {
      flow: 'PPS search',
      expected: 'an access-basis header',
      check: (e) => (header(e, 'access-basis') ? undefined : 'no access-basis'),
    }),
  'PPS-CORRELATION-ID': (c) =>
    everyRequest(ppsSearches(c), {
      flow: 'PPS search',
      expected: `a correlation id (${CORRELATION_HEADERS.slice(0, 3).join(', ')}, …)`,
      check: (e) => (CORRELATION_HEADERS.some((h) => header(e, h)) ? undefined : 'no correlation id header'),
    }),
  'PPS-SRC-UCUM': (c) =>
    everyRequest(ppsSubmissions(c), {
      flow: 'PPS submission',
      expected: 'valueQuantity.system http://unitsofmeasure.org',
      check: (e) =>
        submitted(e, 'Observation')
          .map((o) => {
            const q = o.valueQuantity as Json | undefined;
            return !q || q.system === 'http://unitsofmeasure.org'
              ? undefined
              : `valueQuantity.system ${JSON.stringify(q.system ?? null)}`;
          })
          .find(Boolean),
    }),
  'PPS-SRC-SPECIMEN': (c) =>
    everyRequest(ppsSubmissions(c), {
      flow: 'PPS submission',
      expected: 'Specimen.accessionIdentifier and collection.collectedDateTime',
      check: (e) =>
        submitted(e, 'Specimen')
          .map((s) =>
            s.accessionIdentifier && (s.collection as Json | undefined)?.collectedDateTime
              ? undefined
              : 'a Specimen without accessionIdentifier or collectedDateTime',
          )
          .find(Boolean),
    }),
  'PPS-SRC-REPORT-DATE': (c) =>
    everyRequest(ppsSubmissions(c), {
      flow: 'PPS submission',
      expected: 'DiagnosticReport extension nilar-report-date',
      check: (e) =>
        submitted(e, 'DiagnosticReport')
          .map((r) =>
            ((r.extension as { url?: string }[] | undefined) ?? []).some((x) => x.url?.endsWith('nilar-report-date'))
              ? undefined
              : 'a DiagnosticReport without nilar-report-date',
          )
          .find(Boolean),
    }),
};

// across services
/** An 11-digit run that is a valid fødselsnummer, D-number or H-number (@navikt/fnrvalidator). */
const hasNationalId = (text: string) =>
  (text.match(/(?<!\d)\d{11}(?!\d)/g) ?? []).some((digits) => idnr(digits).status === 'valid');
const clinicalCalls = (c: GradeContext) =>
  c.exchanges.filter((e) => ['pjd', 'critical-information', 'sfm', 'pps'].includes(e.service) && e.auth);

export const CROSS_SERVICE_GRADERS: Record<string, Grader> = {
  'NAV-NO-NIN-IN-URL': (c) =>
    everyRequest(
      clinicalCalls(c).filter((e) => !followsLink(c, e)),
      {
        flow: 'API request',
        expected: 'no 11-digit national identity number in the path or query',
        check: (e) =>
          hasNationalId(decodeURIComponent(`${e.path}?${e.query}`))
            ? `a national identity number in ${e.path}${e.query ? '?…' : ''}`
            : undefined,
      },
    ),
  'NAV-CH-503-BACKOFF': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { challenge, played } = found;
    const seconds = Number(challenge.data.retryAfterSeconds ?? 0);
    const early = after(c, played).filter((e) => e.service === played.service && e.atMs < played.atMs + seconds * 1000);
    return early.length === 0
      ? pass(`No request to ${played.service} within Retry-After (${seconds} s) of ${played.id}`, [played])
      : fail(
          `${early.length} request(s) to ${played.service} came before Retry-After (${seconds} s) had passed`,
          [played, ...early.slice(0, 4)],
          `nothing to ${played.service} for ${seconds} s`,
          `${early[0].id} after ${early[0].atMs - played.atMs} ms`,
        );
  },
  'NAV-CH-503-RESUME': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 60;
    const back = within(after(c, played), played.atMs, limit).find((e) => e.service === played.service);
    return back
      ? pass(
          `${back.id} came back to ${played.service} ${Math.round((back.atMs - played.atMs) / 100) / 10} s after the 503`,
          [played, back],
        )
      : fail(
          `The client did not come back to ${played.service} within ${limit} s of the 503 in ${played.id}`,
          [played],
          `a request to ${played.service} after the wait`,
          'none',
        );
  },
  'NAV-CH-PAGING-NEXT': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const next = (
      (played.responseBody as Json | undefined)?.link as { relation?: string; url?: string }[] | undefined
    )?.find((l) => l.relation === 'next')?.url;
    if (!next)
      return skip(
        `The search ${played.id} had no second page (it matched one result or failed); search a patient with two or more`,
      );
    const target = new URL(next);
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 60;
    const followed = within(after(c, played), played.atMs, limit).find(
      (e) =>
        `/sandboxes/${c.session.sandbox}/${e.service}${e.path}` === target.pathname &&
        new URLSearchParams(e.query).toString() === target.searchParams.toString(),
    );
    return followed
      ? pass(`${followed.id} followed the next link of ${played.id}`, [played, followed])
      : fail(
          `The next link of ${played.id} was not followed within ${limit} s`,
          [played],
          `GET ${target.pathname}${target.search}`,
          'no such request',
        );
  },
};

import { header, nhnHeader, type RecordedExchange } from '../exchange';
import { everyRequest, fail, type Grader, type GradeContext, pass, skip } from '../grading';
import {
  apiCalls,
  bodyOf,
  followsLink,
  linksBefore,
  pathAndQuery,
  playedChallenge,
  resourcesIn,
  withBody,
} from './traffic';

const VOLVEN_9602 = 'urn:oid:2.16.578.1.12.4.1.1.9602';
const isFind = (e: RecordedExchange) => /^\/R4\/fhir\/DocumentReference(\/_search)?$/.test(e.path);
const isRetrieve = (e: RecordedExchange) => /^\/mhd\/(iti68\/)?document$/.test(e.path);
const isProvide = (e: RecordedExchange) => e.method === 'POST' && /^\/R4\/fhir\/?$/.test(e.path);
const pjdCalls = (c: GradeContext) => apiCalls(c, 'pjd').filter((e) => !['/ping', '/pingauth'].includes(e.path));
const finds = (c: GradeContext) => pjdCalls(c).filter(isFind);
type Json = Record<string, unknown>;
const codedIn9602 = (concept: unknown) =>
  ((concept as { coding?: { system?: string }[] } | undefined)?.coding ?? []).some((x) => x.system === VOLVEN_9602);

export const PJD_GRADERS: Record<string, Grader> = {
  'PJD-SOURCE-SYSTEM': (c) =>
    everyRequest(pjdCalls(c), {
      flow: 'PJD request',
      expected: 'an nhn-source-system header',
      check: (e) => (nhnHeader(e, 'source-system') ? undefined : 'no nhn-source-system'),
    }),
  'PJD-SEARCH-POST-FORM': (c) =>
    everyRequest(withBody(finds(c).filter((e) => !followsLink(c, e))), {
      flow: 'ITI-67 search',
      expected: 'POST …/DocumentReference/_search, form-encoded, patient.identifier in the body',
      check: (e) =>
        e.method === 'POST' &&
        e.path.endsWith('/_search') &&
        /application\/x-www-form-urlencoded/.test(header(e, 'content-type') ?? '') &&
        bodyOf(e)?.['patient.identifier']
          ? undefined
          : `${e.method} ${e.path}${e.query ? '?…' : ''} (${header(e, 'content-type') ?? 'no body'})`,
    }),
  'PJD-ACCEPT-FHIR': (c) =>
    everyRequest(finds(c), {
      flow: 'ITI-67 search',
      expected: 'Accept: application/fhir+json; fhirVersion=4.0',
      check: (e) =>
        /application\/fhir\+json/.test(header(e, 'accept') ?? '') && /fhirVersion=4\.0/.test(header(e, 'accept') ?? '')
          ? undefined
          : `Accept: ${header(e, 'accept') ?? '(none)'}`,
    }),
  'PJD-RETRIEVE-AS-GIVEN': (c) =>
    everyRequest(pjdCalls(c).filter(isRetrieve), {
      flow: 'ITI-68 retrieve',
      expected: 'the URL a DocumentReference gave in content.attachment.url',
      check: (e) =>
        linksBefore(c, e, 'attachment').has(pathAndQuery(c, e))
          ? undefined
          : `${e.path}?${e.query} is not a link a search answered`,
    }),
  'PJD-RETRIEVE-PATIENT': (c) =>
    everyRequest(pjdCalls(c).filter(isRetrieve), {
      flow: 'ITI-68 retrieve',
      expected: 'an nhn-patient-nin header',
      check: (e) => (nhnHeader(e, 'patient-nin') ? undefined : 'no nhn-patient-nin'),
    }),
  'PJD-CH-NORS-COUNT': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { challenge, played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 300;
    const sent = Number(challenge.data.norsCount);
    const reported = c.session.observations.filter(
      (o) => o.challenge === 'nors-hidden' && o.atMs >= played.atMs && o.atMs - played.atMs <= limit * 1000,
    );
    if (reported.length === 0) {
      return fail(
        `No NORS count was reported within ${limit} s of ${played.id} (POST …/sessions/{id}/observations {"challenge":"nors-hidden","norsCount":n})`,
        [played],
        `norsCount ${sent}, read from NHN-SecurityLabel-Nors-Count`,
        'nothing reported',
      );
    }
    return reported.some((o) => Number(o.values.norsCount) === sent)
      ? pass(`The vendor reported ${sent} hidden documents, as ${played.id}'s header said`, [played])
      : fail(
          `The reported NORS count does not match the header of ${played.id}`,
          [played],
          `norsCount ${sent}`,
          `norsCount ${reported.map((o) => JSON.stringify(o.values.norsCount)).join(', ')}`,
        );
  },
  'PJD-PROVIDE-TRANSACTION': (c) =>
    everyRequest(withBody(pjdCalls(c).filter(isProvide)), {
      flow: 'ITI-65 provide',
      expected: 'a transaction Bundle with a List, DocumentReference(s) and Binary content',
      check: (e) => {
        const b = bodyOf(e);
        return b?.resourceType === 'Bundle' &&
          b.type === 'transaction' &&
          resourcesIn(b, 'List').length > 0 &&
          resourcesIn(b, 'DocumentReference').length > 0 &&
          resourcesIn(b, 'Binary').length > 0
          ? undefined
          : `Bundle type ${JSON.stringify(b?.type ?? null)} with ${['List', 'DocumentReference', 'Binary'].map((t) => `${resourcesIn(b, t).length} ${t}`).join(', ')}`;
      },
    }),
  'PJD-PROVIDE-CODES': (c) =>
    everyRequest(withBody(pjdCalls(c).filter(isProvide)), {
      flow: 'ITI-65 provide',
      expected: `category and type coded in ${VOLVEN_9602}`,
      check: (e) =>
        resourcesIn(bodyOf(e), 'DocumentReference')
          .map((d: Json) =>
            codedIn9602((d.category as unknown[] | undefined)?.[0]) && codedIn9602(d.type)
              ? undefined
              : `DocumentReference category/type not in ${VOLVEN_9602}`,
          )
          .find(Boolean),
    }),
};

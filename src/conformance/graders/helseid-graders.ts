import { describe, formValue, isApiCall, isDiscovery, isTokenRequest, type RecordedExchange } from '../exchange';
import { everyRequest, fail, type Grader, type GradeContext, pass, skip } from '../grading';
import {
  after,
  apiCalls,
  attestationsOf,
  issuedToken,
  playedChallenge,
  sandboxSeconds,
  scopeOf,
  tokenRequests,
  within,
} from './traffic';

const ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const issuerOf = (c: GradeContext) => `${c.session.baseUrl}/sandboxes/${c.session.sandbox}/helseid`;
const withAssertion = (c: GradeContext) => tokenRequests(c).filter((e) => e.assertion);

/** Token requests the client made while reacting to an expired-token challenge (graded by HID-CH-EXPIRED-*). */
function expiredReactionWindow(c: GradeContext): Set<string> {
  const ids = new Set<string>();
  const challenge = c.challenges.find((ch) => ch.name === 'expired-token' && ch.requestId);
  const played = challenge && c.exchanges.find((e) => e.id === challenge.requestId);
  if (!played) return ids;
  for (const e of after(c, played)) {
    if (isApiCall(e)) break;
    if (isTokenRequest(e)) ids.add(e.id);
  }
  return ids;
}

/** What makes two token requests ask for the same thing: scope, resource and the patient attested. */
function tokenKey(e: RecordedExchange): string {
  const attested = attestationsOf(e).map((a) =>
    JSON.stringify(
      (a.value.patients as { identifier?: unknown }[] | undefined)?.map((p) => p.identifier ?? null) ?? null,
    ),
  );
  return [scopeOf(e).sort().join(' '), formValue(e, 'resource') ?? '', attested.join('|')].join('#');
}

/** The first DPoP nonce answer of each token request, and the request after it. */
function nonceRoundTrips(c: GradeContext): { answer: RecordedExchange; retry?: RecordedExchange }[] {
  const tokens = tokenRequests(c);
  return tokens
    .filter((e) => (e.responseBody as { error?: string } | undefined)?.error === 'use_dpop_nonce')
    .map((answer) => ({ answer, retry: tokens[tokens.indexOf(answer) + 1] }));
}

export const HELSEID_GRADERS: Record<string, Grader> = {
  'HID-DISCOVERY': (c) => {
    const first = tokenRequests(c)[0];
    if (!first) return skip('No token request was recorded');
    const discovery = c.exchanges.slice(0, c.exchanges.indexOf(first)).find(isDiscovery);
    return discovery
      ? pass(`The metadata document was read (${discovery.id}) before the first token request (${first.id})`, [
          discovery,
          first,
        ])
      : fail(
          `The first token request ${first.id} came without a read of /.well-known/openid-configuration before it`,
          [first],
          'GET /.well-known/openid-configuration before the first token request',
          'a token request first',
        );
  },
  'HID-DISCOVERY-CACHED': (c) => {
    if (tokenRequests(c).length === 0) return skip('No token request was recorded');
    const reads = c.exchanges.filter(isDiscovery);
    return reads.length <= 2
      ? pass(
          `The metadata document was read ${reads.length} time(s) for ${tokenRequests(c).length} token requests`,
          reads,
        )
      : fail(
          `The metadata document was read ${reads.length} times in one session: it is not cached`,
          reads,
          'at most 2 reads of the metadata document per session (cache it, 24 h recommended)',
          `${reads.length} reads`,
        );
  },
  'HID-TOKEN-REUSE': (c) => {
    const tokens = tokenRequests(c);
    if (tokens.length === 0) return skip('No token request was recorded');
    const reacting = expiredReactionWindow(c);
    const issued: { e: RecordedExchange; key: string; hash: string; until: number }[] = [];
    const wasted: { e: RecordedExchange; earlier: RecordedExchange }[] = [];
    for (const e of tokens) {
      const key = tokenKey(e);
      const rejected = (t: { hash: string; e: RecordedExchange }) =>
        after(c, t.e).some((x) => x.atMs <= e.atMs && x.auth?.token.hash === t.hash && x.status === 401);
      const stillValid = issued.find((t) => t.key === key && e.atMs < t.until && !rejected(t));
      if (stillValid && !reacting.has(e.id) && !(e.responseBody as { error?: string } | undefined)?.error)
        wasted.push({ e, earlier: stillValid.e });
      const token = issuedToken(e);
      if (token) issued.push({ e, key, hash: token.hash, until: e.atMs + (token.expiresIn - 5) * 1000 });
    }
    if (wasted.length === 0)
      return pass(
        `${tokens.length} token requests; none asked again while a token for the same scope, resource and patient was valid`,
        tokens,
      );
    return fail(
      `${wasted.length} token request(s) asked for a token while one for the same scope was still valid; first ${describe(wasted[0].e)}`,
      wasted.slice(0, 5).flatMap((w) => [w.earlier, w.e]),
      'reuse the token until expires_in has passed or the API rejects it',
      wasted
        .slice(0, 5)
        .map((w) => `${w.e.id} while ${w.earlier.id}'s token was valid`)
        .join('; '),
    );
  },
  'HID-CLOCK': (c) =>
    everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: 'iat within 10 s of the sandbox clock',
      check: (e) => {
        const iat = Number(e.assertion?.claims.iat);
        const drift = iat - sandboxSeconds(e);
        return Number.isFinite(drift) && Math.abs(drift) <= 10
          ? undefined
          : `iat ${e.assertion?.claims.iat} is ${Number.isFinite(drift) ? `${Math.round(drift)} s` : 'not a number'} from the sandbox clock`;
      },
    }),
  'HID-ASSERTION-DETAILS': (c) =>
    everyRequest(
      tokenRequests(c).filter((e) => attestationsOf(e).length > 0),
      {
        flow: 'token request with an attestation',
        expected: 'the attestation in assertion_details',
        check: (e) =>
          attestationsOf(e).some((a) => a.via === 'authorization_details')
            ? 'the attestation is in authorization_details of the client assertion'
            : undefined,
      },
    ),
  'HID-ASSERTION-JTI': (c) => {
    // an assertion refused only for want of a DPoP nonce was not used: sending it again is allowed
    const seen = new Map<string, RecordedExchange>();
    return everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: 'a jti not used before',
      check: (e) => {
        const jti = String(e.assertion?.claims.jti ?? '');
        if (!jti) return 'no jti';
        const earlier = seen.get(jti);
        if ((e.responseBody as { error?: string } | undefined)?.error !== 'use_dpop_nonce') seen.set(jti, e);
        return earlier ? `jti ${jti} was used before in ${earlier.id}` : undefined;
      },
    });
  },
  'HID-ASSERTION-LIFETIME': (c) =>
    everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: 'exp − iat ≤ 60 s',
      check: (e) => {
        const { exp, iat, nbf } = e.assertion?.claims ?? {};
        const life = Number(exp) - Number(iat ?? nbf);
        return life <= 60 ? undefined : `exp − iat = ${Number.isFinite(life) ? life : 'unknown'} s`;
      },
    }),
  'HID-ASSERTION-ISS-SUB': (c) =>
    everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: `iss = sub = ${c.session.clientId}`,
      check: (e) => {
        const { iss, sub } = e.assertion?.claims ?? {};
        return iss === c.session.clientId && sub === c.session.clientId
          ? undefined
          : `iss ${JSON.stringify(iss)}, sub ${JSON.stringify(sub)}`;
      },
    }),
  'HID-ASSERTION-AUD': (c) =>
    everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: `aud ${issuerOf(c)} (or its token endpoint)`,
      check: (e) => {
        const aud = e.assertion?.claims.aud;
        const list = Array.isArray(aud) ? aud : [aud];
        return list.some((a) => a === issuerOf(c) || a === `${issuerOf(c)}/` || a === `${issuerOf(c)}/connect/token`)
          ? undefined
          : `aud ${JSON.stringify(aud)}`;
      },
    }),
  'HID-ASSERTION-ALG': (c) =>
    everyRequest(withAssertion(c), {
      flow: 'client assertion',
      expected: `alg one of ${ASSERTION_ALGS.join(', ')}`,
      check: (e) =>
        ASSERTION_ALGS.includes(String(e.assertion?.header.alg))
          ? undefined
          : `alg ${JSON.stringify(e.assertion?.header.alg)}`,
    }),
  'HID-ASSERTION-TYPE': (c) =>
    everyRequest(tokenRequests(c), {
      flow: 'token request',
      expected: 'client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer with a client_assertion',
      check: (e) =>
        formValue(e, 'client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
        e.assertion
          ? undefined
          : `client_assertion_type ${JSON.stringify(formValue(e, 'client_assertion_type') ?? null)}`,
    }),
  'HID-DPOP-TOKEN': (c) =>
    everyRequest(tokenRequests(c), {
      flow: 'token request',
      expected: 'a DPoP header',
      check: (e) => (e.dpop ? undefined : 'no DPoP header'),
    }),
  'HID-DPOP-NONCE-TOKEN': (c) => {
    const trips = nonceRoundTrips(c);
    if (trips.length === 0) return skip('The token endpoint never asked for a DPoP nonce');
    const broken = trips.filter(
      (t) => !t.retry || t.retry.dpop?.claims.nonce !== t.answer.responseHeaders['dpop-nonce'],
    );
    if (broken.length === 0)
      return pass(
        `All ${trips.length} use_dpop_nonce answers were followed by a retry with that nonce`,
        trips.flatMap((t) => [t.answer, t.retry as RecordedExchange]),
      );
    const t = broken[0];
    return fail(
      `After use_dpop_nonce in ${t.answer.id} the ${t.retry ? `retry ${t.retry.id}` : 'client sent no retry'}${t.retry ? ' did not carry the nonce' : ''}`,
      [t.answer, ...(t.retry ? [t.retry] : [])],
      `a retry whose proof has nonce "${t.answer.responseHeaders['dpop-nonce']}"`,
      t.retry ? `nonce ${JSON.stringify(t.retry.dpop?.claims.nonce ?? null)}` : 'no retry',
    );
  },
  'HID-DPOP-JTI': (c) => {
    const seen = new Map<string, RecordedExchange>();
    return everyRequest(
      c.exchanges.filter((e) => e.dpop),
      {
        flow: 'DPoP proof',
        expected: 'a jti not used before',
        check: (e) => {
          const jti = String(e.dpop?.claims.jti ?? '');
          if (!jti) return 'no jti';
          const earlier = seen.get(jti);
          seen.set(jti, e);
          return earlier ? `jti ${jti} was used before in ${earlier.id}` : undefined;
        },
      },
    );
  },
  'HID-DPOP-HTM-HTU': (c) =>
    everyRequest(
      c.exchanges.filter((e) => e.dpop),
      {
        flow: 'DPoP proof',
        expected: 'htm = the method, htu = the URL without query',
        check: (e) => {
          const url = `${c.session.baseUrl}/sandboxes/${c.session.sandbox}/${e.service}${e.path}`;
          const { htm, htu } = e.dpop?.claims ?? {};
          return htm === e.method && htu === url
            ? undefined
            : `htm ${JSON.stringify(htm)}, htu ${JSON.stringify(htu)} for ${e.method} ${url}`;
        },
      },
    ),
  'HID-DPOP-ATH': (c) =>
    everyRequest(
      apiCalls(c).filter((e) => e.auth?.scheme === 'DPoP'),
      {
        flow: 'API call with a DPoP token',
        expected: 'ath = base64url(SHA-256(access token))',
        check: (e) =>
          e.dpop?.claims.ath === e.auth?.token.hash ? undefined : `ath ${JSON.stringify(e.dpop?.claims.ath ?? null)}`,
      },
    ),
  'HID-TOKEN-IN-HEADER': (c) =>
    everyRequest(
      c.exchanges.filter((e) => e.service !== 'helseid'),
      {
        flow: 'API request',
        expected: 'the access token only in the Authorization header',
        check: (e) =>
          /(^|&)access_token=/.test(e.query) ||
          formValue(e, 'access_token') !== undefined ||
          (e.body as { access_token?: unknown } | undefined)?.access_token !== undefined
            ? 'an access_token in the query or the body'
            : undefined,
      },
    ),
  'HID-CH-DPOP-NONCE-RETRY': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { challenge, played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 30;
    const retry = within(after(c, played), played.atMs, limit).find(
      (e) => e.service === played.service && e.method === played.method && e.path === played.path,
    );
    const nonce = String(challenge.data.nonce ?? '');
    if (!retry)
      return fail(
        `No retry of ${describe(played)} within ${limit} s of use_dpop_nonce`,
        [played],
        `a retry with nonce "${nonce}" in its DPoP proof`,
        'no retry',
      );
    return retry.dpop?.claims.nonce === nonce
      ? pass(`${retry.id} retried ${played.id} with the API's nonce`, [played, retry])
      : fail(
          `The retry ${retry.id} of ${played.id} did not carry the nonce the API sent`,
          [played, retry],
          `nonce "${nonce}" in the DPoP proof`,
          `nonce ${JSON.stringify(retry.dpop?.claims.nonce ?? null)}`,
        );
  },
  'HID-CH-EXPIRED-NEW-TOKEN': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 60;
    const next = within(after(c, played), played.atMs, limit).find(isApiCall);
    if (!next)
      return fail(
        `No API call within ${limit} s after the expired token of ${played.id}`,
        [played],
        'an API call with a new token',
        'none',
      );
    return next.auth?.token.hash !== played.auth?.token.hash
      ? pass(`${next.id} used a new token after ${played.id} was refused as expired`, [played, next])
      : fail(
          `${next.id} sent the token refused as expired in ${played.id} again`,
          [played, next],
          'a token obtained after the expired answer',
          'the same token (same hash)',
        );
  },
  'HID-CH-EXPIRED-NO-LOOP': (c) => {
    const found = playedChallenge(c);
    if ('skip' in found) return skip(found.skip);
    const { played } = found;
    const limit = c.requirement.challenge?.timeLimitSeconds ?? 60;
    const window: RecordedExchange[] = [];
    for (const e of within(after(c, played), played.atMs, limit)) {
      if (isApiCall(e)) break;
      if (isTokenRequest(e)) window.push(e);
    }
    const issued = window.filter((e) => issuedToken(e));
    return issued.length <= 2
      ? pass(`${issued.length} token(s) issued between the expired answer ${played.id} and the next API call`, [
          played,
          ...window,
        ])
      : fail(
          `${issued.length} tokens were fetched after ${played.id} before the API was called again`,
          [played, ...issued],
          'one new token (at most two)',
          `${issued.length} tokens`,
        );
  },
};

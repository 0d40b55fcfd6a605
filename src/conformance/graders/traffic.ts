import { type RecordedExchange, formValue, header, isApiCall, isTokenRequest, nhnHeader, ok } from '../exchange';
import type { ChallengeRecord } from '../session-store';
import type { GradeContext } from '../grading';

/** Questions graders ask of a recording. All pure. */
type Json = Record<string, unknown>;

export const tokenRequests = (c: GradeContext) => c.exchanges.filter(isTokenRequest);
export const apiCalls = (c: GradeContext, service?: string) =>
  c.exchanges.filter((e) => isApiCall(e) && (service === undefined || e.service === service));
export const after = (c: GradeContext, e: RecordedExchange) => c.exchanges.slice(c.exchanges.indexOf(e) + 1);
export const within = (list: readonly RecordedExchange[], fromMs: number, seconds: number) =>
  list.filter((e) => e.atMs - fromMs <= seconds * 1000);

/** The full URL path of a request as the client wrote it (below the host). */
export const pathAndQuery = (c: GradeContext, e: RecordedExchange) =>
  `/sandboxes/${c.session.sandbox}/${e.service}${e.path}${e.query ? `?${e.query}` : ''}`;

function urlPathAndQuery(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}

/** Links Navet gave the client before this request (Bundle.link and content.attachment.url). */
export function linksBefore(c: GradeContext, e: RecordedExchange, kind: 'link' | 'attachment' = 'link'): Set<string> {
  const links = new Set<string>();
  for (const earlier of c.exchanges.slice(0, c.exchanges.indexOf(e))) {
    const body = earlier.responseBody as Json | undefined;
    if (kind === 'link')
      for (const l of (body?.link as { url?: string }[] | undefined) ?? []) {
        const p = l.url && urlPathAndQuery(l.url);
        if (p) links.add(p);
      }
    if (kind === 'attachment') {
      for (const entry of (body?.entry as { resource?: Json }[] | undefined) ?? []) {
        for (const content of (entry.resource?.content as { attachment?: { url?: string } }[] | undefined) ?? []) {
          const p = content.attachment?.url && urlPathAndQuery(content.attachment.url);
          if (p) links.add(p);
        }
      }
    }
  }
  return links;
}

/** True when the request follows a link Navet gave (a next page, an attachment): its URL is then Navet's, not the client's. */
export const followsLink = (c: GradeContext, e: RecordedExchange) =>
  linksBefore(c, e).has(pathAndQuery(c, e)) || linksBefore(c, e, 'attachment').has(pathAndQuery(c, e));

/** Requests whose body Navet read: a challenge answered before the service read the body leaves none to grade. */
export const withBody = (list: readonly RecordedExchange[]) =>
  list.filter((e) => !(e.challenge && e.body === undefined));

export const bodyOf = (e: RecordedExchange): Json | undefined =>
  e.body && typeof e.body === 'object' ? (e.body as Json) : undefined;

function identifierValue(resource: Json | undefined): string | undefined {
  const identifiers = (resource?.identifier as { value?: string }[] | undefined) ?? [];
  return identifiers.map((i) => i.value).find((v): v is string => typeof v === 'string' && /^\d{11}$/.test(v));
}

/** The patient a request is about, wherever the service has it named. */
export function patientOf(e: RecordedExchange): string | undefined {
  const fromHeader = nhnHeader(e, 'patient-nin') ?? header(e, 'person-id');
  if (fromHeader) return fromHeader;
  const form = formValue(e, 'patient.identifier') ?? formValue(e, 'patient:identifier');
  if (form) return form.slice(form.lastIndexOf('|') + 1);
  const body = bodyOf(e);
  if (typeof body?.nin === 'string') return body.nin;
  if (body?.resourceType === 'Parameters') {
    for (const p of (body.parameter as { name?: string; resource?: Json }[] | undefined) ?? []) {
      if (p.name === 'patient') return identifierValue(p.resource);
      if (p.name === 'medication')
        return identifierValue(
          ((p.resource?.entry as { resource?: Json }[] | undefined) ?? [])
            .map((x) => x.resource)
            .find((r) => r?.resourceType === 'Patient'),
        );
    }
  }
  return undefined;
}

/** The attestations of a token request (assertion_details or authorization_details of its assertion). */
export function attestationsOf(e: RecordedExchange): { via: string; value: Json }[] {
  const found: { via: string; value: Json }[] = [];
  for (const via of ['assertion_details', 'authorization_details']) {
    const raw = e.assertion?.claims[via];
    for (const item of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      if (item && typeof item === 'object' && (item as Json).type === 'nhn:tillitsrammeverk:parameters')
        found.push({ via, value: item as Json });
    }
  }
  return found;
}

/** The access token a token request was answered with (decoded, with its hash). */
export function issuedToken(e: RecordedExchange): { hash: string; claims: Json; expiresIn: number } | undefined {
  const body = e.responseBody as Json | undefined;
  const token = body?.access_token as { hash?: string; claims?: Json } | undefined;
  if (!ok(e) || !token?.hash) return undefined;
  return { hash: token.hash, claims: token.claims ?? {}, expiresIn: Number(body?.expires_in ?? 0) };
}

export const scopeOf = (e: RecordedExchange) => (formValue(e, 'scope') ?? '').split(' ').filter(Boolean);
export const sandboxSeconds = (e: RecordedExchange) => Date.parse(e.sandboxTime) / 1000;

/** The challenge of a requirement, and the request it was played on. */
export function playedChallenge(
  c: GradeContext,
): { challenge: ChallengeRecord; played: RecordedExchange } | { skip: string } {
  const name = c.requirement.challenge?.name;
  const challenge = c.challenges.find((ch) => ch.name === name);
  if (!challenge)
    return { skip: `The ${name} challenge was not armed in this session (POST …/challenges {"challenge":"${name}"})` };
  if (challenge.status !== 'triggered' || !challenge.requestId)
    return { skip: `The ${name} challenge was armed but no request it applies to came` };
  const played = c.exchanges.find((e) => e.id === challenge.requestId);
  if (!played) return { skip: `The request the ${name} challenge was played on is not in the recording` };
  return { challenge, played };
}

export const resourcesIn = (bundle: Json | undefined, type: string): Json[] =>
  ((bundle?.entry as { resource?: Json }[] | undefined) ?? [])
    .map((x) => x.resource)
    .filter((r): r is Json => r?.resourceType === type);

import { createHash, randomUUID } from 'node:crypto';
import { parseSearchRequest } from '../fhir/search-request';
import type { ResourceStore } from '../store/resource-store';
import type { UserIdentity } from './access-token';

/**
 * A person logging in through the sandbox's test identity provider: name and HPR number come from the
 * sandbox's registry (Practitioner by fødselsnummer, else Patient); a person in neither still logs in.
 */
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';

interface NamedResource {
  name?: { given?: string[]; family?: string; text?: string }[];
  identifier?: { system?: string; value?: string }[];
}

export async function userIdentity(
  store: ResourceStore,
  sandbox: string,
  pid: string,
  clientId: string,
  now: Date,
): Promise<UserIdentity> {
  let person: NamedResource | undefined;
  for (const type of ['Practitioner', 'Patient']) {
    const found = await store.search(sandbox, {
      ...parseSearchRequest(type, [['identifier', pid]]),
      count: 1,
      totalNone: true,
    });
    person = found.matches[0] as NamedResource | undefined;
    if (person) break;
  }
  const name = person?.name?.[0];
  const given = name?.given ?? ['Test'];
  const family = name?.family ?? `Person ${pid.slice(0, 6)}`;
  const hprNumber = person?.identifier?.find((i) => i.system === HPR)?.value;
  return {
    pid,
    ...(hprNumber ? { hprNumber } : {}),
    name: [...given, family].join(' '),
    givenName: given[0],
    ...(given.length > 1 ? { middleName: given.slice(1).join(' ') } : {}),
    familyName: family,
    // pairwise pseudonym: stable for one person and one client
    sub: createHash('sha256').update(`${sandbox}:${clientId}:${pid}`).digest('base64url'),
    authTime: Math.floor(now.getTime() / 1000),
    sid: randomUUID(),
  };
}

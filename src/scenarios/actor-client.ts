import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Client from 'fhir-kit-client';
import type { Practitioner } from 'fhir/r4';
import { signClientAssertion } from '../trust/client-assertion-signer';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import type { ServiceKey, ServiceRequest } from './operations';

/**
 * The actor client: one record system of a scenario or rehearsal, acting for one practitioner or citizen.
 * It registers itself as a client of the sandbox (admin API, its own new key pair), gets its tokens from
 * the sandbox's HelseID (private_key_jwt, DPoP with the nonce round-trip, the tillitsrammeverk attestation
 * in the client assertion; a citizen logs in through PAR + the test IdP + PKCE) and calls the services'
 * real paths: FHIR bodies through fhir-kit-client, other bodies with fetch. No back doors.
 */
export interface ActorIdentity {
  /** The HelseID client id to register (or re-register) for this actor. */
  clientId: string;
  title: string;
  system: string;
  organisation?: { legalEntity: string; pointOfCare?: string };
  practitioner?: {
    hpr: string;
    authorization?: string;
    healthcareService?: string;
    purposeOfUse?: string;
    purposeOfUseDetails?: string;
  };
  citizen?: { fnr: string };
  /** The scopes the client is registered with. */
  scopes: string[];
  /** false: the record system does not send the tillitsrammeverk attestation (yet). */
  sendAttestation?: boolean;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  bytes: number;
  ms: number;
}

export interface SandboxTarget {
  /** Navet's base URL, e.g. http://localhost:8080. */
  url: string;
  sandbox: string;
  adminKey: string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REDIRECT_URI = 'http://localhost:3000/callback';
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const ORGNR = 'urn:oid:2.16.578.1.12.4.1.4.101';
const SERVICE_PATHS: Record<ServiceKey, string> = {
  pjd: 'pjd',
  'critical-information': 'critical-information',
  sfm: 'sfm',
  pps: 'pps',
  citizen: 'citizen',
};

/** A token endpoint or admin API answer that is not what the actor needed: says which rule refused it. */
export class ActorSetupError extends Error {
  constructor(
    readonly rule: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ActorSetupError';
  }
}

function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return headers;
}

async function readBody(response: Response, binary: boolean): Promise<{ body: unknown; bytes: number }> {
  const buffer = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  if (!binary || /json/.test(type)) {
    try {
      return { body: buffer.length ? JSON.parse(buffer.toString('utf8')) : undefined, bytes: buffer.length };
    } catch {
      return { body: buffer.toString('utf8'), bytes: buffer.length };
    }
  }
  return { body: { contentType: type, size: buffer.length }, bytes: buffer.length };
}

interface PractitionerFacts {
  fnr: string;
  name: string;
  authorization: string;
}

export class ActorClient {
  private privateJwk?: JWK;
  private dpopKey?: DpopKey;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private practitionerFacts?: PractitionerFacts;

  constructor(
    readonly target: SandboxTarget,
    readonly identity: ActorIdentity,
  ) {}

  private get base(): string {
    return `${this.target.url}/sandboxes/${this.target.sandbox}`;
  }

  private get issuer(): string {
    return `${this.base}/helseid`;
  }

  private admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.target.url}/api/sandboxes/${this.target.sandbox}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${this.target.adminKey}`, 'Content-Type': 'application/json', ...init.headers },
    });
  }

  /** Registers the actor's record system with a fresh key pair (or gives the existing registration the new key). */
  async register(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomBytes(8).toString('hex');
    this.privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    this.dpopKey = await makeDpopKey();
    const { organisation, citizen } = this.identity;
    const parent = organisation?.legalEntity ?? '994598759';
    const config = {
      clientId: this.identity.clientId,
      name: this.identity.system,
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] },
      scopes: citizen ? ['openid', 'helseid://scopes/identity/pid', ...this.identity.scopes] : this.identity.scopes,
      organization: {
        parent,
        ...(organisation?.pointOfCare && organisation.pointOfCare !== parent
          ? { child: organisation.pointOfCare }
          : {}),
      },
      tenancy: 'single-tenant',
      dpop: true,
      redirectUris: citizen ? [REDIRECT_URI] : [],
    };
    let response = await this.admin('/clients', { method: 'POST', body: JSON.stringify(config) });
    if (response.status === 409)
      response = await this.admin(`/clients/${encodeURIComponent(this.identity.clientId)}`, {
        method: 'PUT',
        body: JSON.stringify(config),
      });
    if (response.status >= 300)
      throw await this.setupError(response, `registering the client ${this.identity.clientId}`);
    this.tokens.clear();
  }

  private async setupError(response: Response, what: string): Promise<ActorSetupError> {
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    const { rule, text } = ruleOf(body);
    return new ActorSetupError(
      rule ?? `HTTP-${response.status}`,
      `${what}: ${response.status} ${text ?? ''}`.trim(),
      response.status,
    );
  }

  /** The practitioner's fødselsnummer, name and authorisation, read from the sandbox's registry by HPR number. */
  private async practitioner(): Promise<PractitionerFacts> {
    if (this.practitionerFacts) return this.practitionerFacts;
    const hpr = this.identity.practitioner?.hpr as string;
    const registry = new Client({
      baseUrl: `${this.base}/fhir`,
      customHeaders: { Authorization: `Bearer ${this.target.adminKey}` },
    });
    const found = (await registry.search({
      resourceType: 'Practitioner',
      searchParams: { identifier: `${HPR}|${hpr}` },
    })) as { entry?: { resource?: Practitioner }[] };
    const practitioner = found.entry?.[0]?.resource;
    const fnr = practitioner?.identifier?.find((i) => i.system === FNR)?.value;
    if (!practitioner || !fnr)
      throw new ActorSetupError(
        'NAVET-SCENARIO-PRACTITIONER',
        `${this.identity.title}: the sandbox has no practitioner with HPR number ${hpr} (and a fødselsnummer)`,
      );
    const name = practitioner.name?.[0];
    this.practitionerFacts = {
      fnr,
      name: [...(name?.given ?? []), name?.family].filter(Boolean).join(' '),
      authorization:
        this.identity.practitioner?.authorization ?? practitioner.qualification?.[0]?.code?.coding?.[0]?.code ?? 'LE',
    };
    return this.practitionerFacts;
  }

  /** The tillitsrammeverk attestation this actor's system sends: who, where, why. */
  private async attestation(): Promise<Record<string, unknown>> {
    const facts = await this.practitioner();
    const { organisation, practitioner } = this.identity;
    const legal = organisation?.legalEntity as string;
    return {
      type: 'nhn:tillitsrammeverk:parameters',
      practitioner: {
        identifier: { id: facts.fnr, system: FNR, authority: 'Skatteetaten' },
        hpr_nr: { id: practitioner?.hpr, system: HPR },
        authorization: { code: facts.authorization, system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
        legal_entity: { id: legal, system: ORGNR },
        point_of_care: { id: organisation?.pointOfCare ?? legal, system: ORGNR },
      },
      care_relationship: {
        healthcare_service: {
          code: practitioner?.healthcareService ?? 'S03',
          system: 'urn:oid:2.16.578.1.12.4.1.1.8655',
        },
        purpose_of_use: { code: practitioner?.purposeOfUse ?? 'TREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
        purpose_of_use_details: {
          code: practitioner?.purposeOfUseDetails ?? 'BEHANDLER',
          system: 'urn:AuditEventHL7Norway/CodeSystem/carerelation',
        },
        decision_ref: { id: randomBytes(16).toString('hex'), user_selected: false },
      },
      patients: [{}],
      toa: Math.floor(Date.now() / 1000),
    };
  }

  private async assertion(extraClaims: Record<string, unknown> = {}): Promise<string> {
    if (!this.privateJwk)
      throw new ActorSetupError('NAVET-SCENARIO-NOT-REGISTERED', `${this.identity.title}: register the actor first`);
    return signClientAssertion(this.privateJwk, this.identity.clientId, this.issuer, { alg: 'ES256', extraClaims });
  }

  /** POST to the token endpoint with a DPoP proof, doing the use_dpop_nonce round-trip. */
  private async tokenRequest(form: () => Promise<Record<string, string>>): Promise<Record<string, unknown>> {
    const url = `${this.issuer}/connect/token`;
    const send = async (nonce?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          DPoP: await makeDpopProof(this.dpopKey as DpopKey, { method: 'POST', url, nonce }),
        },
        body: new URLSearchParams(await form()).toString(),
      });
    let response = await send();
    if (response.status === 400) {
      const nonce = response.headers.get('dpop-nonce');
      const body = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { error?: string };
      if (body.error === 'use_dpop_nonce' && nonce) response = await send(nonce);
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status !== 200 || typeof body.access_token !== 'string') {
      const { rule, text } = ruleOf(body);
      throw new ActorSetupError(
        rule ?? `HTTP-${response.status}`,
        `token request: ${response.status} ${text ?? JSON.stringify(body)}`,
        response.status,
      );
    }
    return body;
  }

  /** The token for one API: client credentials with the attestation, or the citizen's login. */
  private async token(audience: string, neededScope: string): Promise<string> {
    const cached = this.tokens.get(audience);
    if (cached && cached.expiresAt > Date.now() + 5000) return cached.token;
    // what the client is registered with for this API; a client registered without any asks for what it needs
    const scopes = this.identity.scopes.filter((s) => audienceOf(s) === audience);
    const scope = (scopes.length ? scopes : [neededScope]).join(' ');
    const body = this.identity.citizen
      ? await this.citizenLogin(scope)
      : await (async () => {
          const claims =
            this.identity.sendAttestation === false ? {} : { assertion_details: [await this.attestation()] };
          return this.tokenRequest(async () => ({
            grant_type: 'client_credentials',
            client_id: this.identity.clientId,
            client_assertion_type: ASSERTION_TYPE,
            client_assertion: await this.assertion(claims),
            scope,
            resource: audience,
          }));
        })();
    const token = body.access_token as string;
    this.tokens.set(audience, { token, expiresAt: Date.now() + Number(body.expires_in ?? 60) * 1000 });
    return token;
  }

  /** The citizen logs in: PAR, the test IdP with test_pid (no login page), the code with PKCE. */
  private async citizenLogin(scope: string): Promise<Record<string, unknown>> {
    const verifier = randomBytes(32).toString('base64url');
    const par = await fetch(`${this.issuer}/connect/par`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: this.identity.clientId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await this.assertion(),
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: `openid helseid://scopes/identity/pid ${scope}`,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state: randomBytes(8).toString('hex'),
      }).toString(),
    });
    if (par.status !== 201) throw await this.setupError(par, 'pushed authorization request');
    const { request_uri: requestUri } = (await par.json()) as { request_uri: string };
    const login = await fetch(
      `${this.issuer}/connect/authorize?${new URLSearchParams({ client_id: this.identity.clientId, request_uri: requestUri, test_pid: this.identity.citizen?.fnr as string })}`,
      { redirect: 'manual' },
    );
    const code = login.headers.get('location')
      ? new URL(login.headers.get('location') as string).searchParams.get('code')
      : null;
    if (login.status !== 302 || !code) throw await this.setupError(login, 'test identity provider login');
    return this.tokenRequest(async () => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: this.identity.clientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await this.assertion(),
    }));
  }

  /** Calls a service the way the actor's record system does. */
  async call(request: ServiceRequest, audience: string, scope: string): Promise<Answer> {
    const token = await this.token(audience, scope);
    const serviceBase = `${this.base}/${SERVICE_PATHS[request.service]}`;
    const url = /^https?:\/\//.test(request.path) ? request.path : `${serviceBase}${request.path}`;
    const proof = await makeDpopProof(this.dpopKey as DpopKey, {
      method: request.method,
      url: url.split('?')[0],
      accessToken: token,
    });
    const headers: Record<string, string> = {
      Authorization: `DPoP ${token}`,
      DPoP: proof,
      'nhn-source-system': this.identity.system,
      ...request.headers,
    };
    const started = process.hrtime.bigint();
    const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    if (request.resource) return this.fhirCall(serviceBase, url, request, headers, elapsed);
    let body: string | undefined;
    if (request.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers.Accept = 'application/fhir+json';
      body = new URLSearchParams(request.form).toString();
    } else if (request.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(request.json);
    }
    const response = await fetch(url, { method: request.method, headers, body });
    const read = await readBody(response, request.binary === true);
    return { status: response.status, headers: headersOf(response), ...read, ms: elapsed() };
  }

  /** A FHIR body: sent with fhir-kit-client, which answers the resource; errors carry the OperationOutcome. */
  private async fhirCall(
    serviceBase: string,
    url: string,
    request: ServiceRequest,
    headers: Record<string, string>,
    elapsed: () => number,
  ): Promise<Answer> {
    const client = new Client({
      baseUrl: serviceBase,
      customHeaders: { ...headers, 'Content-Type': 'application/fhir+json' },
    });
    try {
      const result = await client.request(url, { method: request.method, body: JSON.stringify(request.resource) });
      const { response } = Client.httpFor(result as { resourceType: string });
      return {
        status: response?.status ?? 200,
        headers: response ? headersOf(response) : {},
        body: result,
        bytes: JSON.stringify(result ?? '').length,
        ms: elapsed(),
      };
    } catch (error) {
      const failure = error as { response?: { status?: number; data?: unknown }; config?: { headers?: Headers } };
      if (failure.response?.status === undefined) throw error;
      const responseHeaders: Record<string, string> = {};
      failure.config?.headers?.forEach((value, key) => {
        responseHeaders[key] = value;
      });
      return {
        status: failure.response.status,
        headers: responseHeaders,
        body: failure.response.data,
        bytes: JSON.stringify(failure.response.data ?? '').length,
        ms: elapsed(),
      };
    }
  }
}

function audienceOf(scope: string): string | undefined {
  if (scope.startsWith('nhn:phr/') || scope === 'navet:pjd/provide-document') return 'nhn:phr';
  if (scope.startsWith('nhn:kjernejournal/')) return 'nhn:kjernejournal';
  if (scope.startsWith('e-helse:sfm.api/')) return 'e-helse:sfm.api';
  if (scope.startsWith('nhn:pps/') || scope === 'navet:pps/submit-result') return 'nhn:pps';
  if (scope === 'navet:citizen') return 'navet:citizen';
  return undefined;
}

/** The rule an answer names: an OperationOutcome's Navet code (ATT-4, NAVET-…), or an OAuth error_code. */
export function ruleOf(body: unknown): { rule?: string; text?: string } {
  const value = body as
    | {
        resourceType?: string;
        issue?: { details?: { coding?: { code?: string }[]; text?: string }; diagnostics?: string }[];
        error?: string;
        error_code?: string;
        error_description?: string;
      }
    | undefined;
  if (value?.resourceType === 'OperationOutcome') {
    const issue = value.issue?.find((i) => i.details?.coding?.[0]?.code) ?? value.issue?.[0];
    return { rule: issue?.details?.coding?.[0]?.code, text: issue?.details?.text ?? issue?.diagnostics };
  }
  if (value?.error) return { rule: value.error_code ?? value.error, text: value.error_description };
  return {};
}

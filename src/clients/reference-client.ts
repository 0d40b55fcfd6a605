import Client from 'fhir-kit-client';
import type { JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { type AssertionOptions, signClientAssertion } from '../trust/client-assertion-signer';
import { type DpopKey, makeDpopKey, makeDpopProof, type ProofOptions } from '../trust/dpop-client';

/**
 * A vendor's client of Navet's national services, written as a careful vendor writes one: HelseID with
 * private_key_jwt (jose, through Navet's client-side helpers) and DPoP, metadata from discovery, tokens
 * reused until they expire, one attestation per patient; FHIR calls with fhir-kit-client. It reacts as the
 * real services require: a new DPoP nonce, an expired token, 503 with Retry-After. The conformance tests
 * run it as "the vendor's system", and so does examples/vendor-ci.sh.
 */
export interface ReferenceClientConfig {
  /** Navet's public base URL, e.g. http://localhost:8080. */
  navetUrl: string;
  sandbox: string;
  clientId: string;
  privateJwk: JWK;
  /** The attestation of the logged-in health worker (nhn:tillitsrammeverk:parameters) without the patient. */
  attestation?: Record<string, unknown>;
  sourceSystem?: string;
}

export interface TokenSpec {
  scope: string;
  resource?: string;
  /** The patient the attestation is for; tokens carrying an attestation are never shared between patients. */
  patient?: string;
  attest?: boolean;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  data: T;
  headers: Headers;
}

/** A refused call, shaped as fhir-kit-client's errors. */
export interface CallError {
  response: { status: number; data: unknown };
  config: { headers: Headers };
}
export const isCallError = (e: unknown): e is CallError =>
  typeof e === 'object' && e !== null && 'response' in e && typeof (e as CallError).response?.status === 'number';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ReferenceClient {
  protected metadata: { issuer: string; token_endpoint: string } | undefined;
  protected readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  protected dpopKey: DpopKey | undefined;
  /** The DPoP nonce an API asked for (RFC 9449 §9), sent in later proofs. */
  protected apiNonce: string | undefined;
  readonly issuer: string;

  constructor(readonly config: ReferenceClientConfig) {
    this.issuer = `${config.navetUrl}/sandboxes/${config.sandbox}/helseid`;
  }

  serviceBase(service: string): string {
    return `${this.config.navetUrl}/sandboxes/${this.config.sandbox}/${service}`;
  }

  // ---- HelseID ----

  protected async discover(): Promise<{ issuer: string; token_endpoint: string }> {
    if (!this.metadata) {
      const response = await fetch(`${this.issuer}/.well-known/openid-configuration`);
      if (!response.ok) throw new Error(`discovery failed: ${response.status}`);
      this.metadata = (await response.json()) as { issuer: string; token_endpoint: string };
    }
    return this.metadata;
  }

  protected tokenKey(spec: TokenSpec): string {
    return `${spec.scope}|${spec.resource ?? ''}|${spec.attest ? (spec.patient ?? '-') : ''}`;
  }

  /** The attestation for a patient: the user's, bound to the patient (ATT-4), attested now (ATT-58). */
  protected attestationFor(patient: string | undefined): Record<string, unknown> {
    const base = this.config.attestation ?? {};
    return {
      ...base,
      care_relationship: {
        ...(base.care_relationship as object),
        decision_ref: { id: randomUUID(), user_selected: false },
      },
      patients: [patient ? { identifier: { id: patient, system: FNR } } : {}],
      toa: Math.floor(Date.now() / 1000),
    };
  }

  protected assertionOptions(spec: TokenSpec): AssertionOptions {
    return {
      aud: this.issuer,
      extraClaims: spec.attest ? { assertion_details: [this.attestationFor(spec.patient)] } : {},
    };
  }

  protected signAssertion(spec: TokenSpec): Promise<string> {
    return signClientAssertion(this.config.privateJwk, this.config.clientId, this.issuer, this.assertionOptions(spec));
  }

  protected tokenForm(spec: TokenSpec, assertion: string): Record<string, string> {
    return {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      scope: spec.scope,
      ...(spec.resource ? { resource: spec.resource } : {}),
    };
  }

  protected async proof(options: ProofOptions): Promise<string> {
    this.dpopKey ??= await makeDpopKey();
    return makeDpopProof(this.dpopKey, options);
  }

  /** One token request with the DPoP nonce round-trip (HelseID answers use_dpop_nonce first). */
  protected async requestToken(spec: TokenSpec): Promise<{ access_token: string; expires_in: number }> {
    const { token_endpoint: endpoint } = await this.discover();
    let nonce: string | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          DPoP: await this.proof({ method: 'POST', url: endpoint, nonce }),
        },
        body: new URLSearchParams(this.tokenForm(spec, await this.signAssertion(spec))).toString(),
      });
      const body = (await response.json()) as Record<string, unknown>;
      if (response.ok) return body as { access_token: string; expires_in: number };
      if (body.error === 'use_dpop_nonce' && nonce === undefined && response.headers.get('dpop-nonce')) {
        nonce = response.headers.get('dpop-nonce') ?? undefined;
        continue;
      }
      throw new Error(`HelseID refused the token request: ${String(body.error)}: ${String(body.error_description)}`);
    }
    throw new Error('HelseID asked for a DPoP nonce twice');
  }

  /** A token for the spec: the cached one while it is valid (FK3), else a new one. */
  async accessToken(spec: TokenSpec): Promise<string> {
    const key = this.tokenKey(spec);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now() + 5000) return cached.token;
    const issued = await this.requestToken(spec);
    this.tokens.set(key, { token: issued.access_token, expiresAt: Date.now() + issued.expires_in * 1000 });
    return issued.access_token;
  }

  protected forgetToken(spec: TokenSpec): void {
    this.tokens.delete(this.tokenKey(spec));
  }

  // ---- calling an API ----

  protected async authHeaders(method: string, url: string, spec: TokenSpec): Promise<Record<string, string>> {
    const token = await this.accessToken(spec);
    return {
      Authorization: `DPoP ${token}`,
      DPoP: await this.proof({ method, url: url.split(/[?#]/)[0], accessToken: token, nonce: this.apiNonce }),
    };
  }

  /** After use_dpop_nonce from an API: use the nonce (once). */
  protected onApiNonce(nonce: string): boolean | Promise<boolean> {
    this.apiNonce = nonce;
    return true;
  }

  /** After 401 invalid_token: forget the token; the retry gets a new one. */
  protected onInvalidToken(spec: TokenSpec): boolean | Promise<boolean> {
    this.forgetToken(spec);
    return true;
  }

  /** After 503 with Retry-After: wait as long as asked. */
  protected async onRetryAfter(seconds: number): Promise<boolean> {
    await sleep(seconds * 1000);
    return true;
  }

  /**
   * Calls an API with a token and a fresh DPoP proof, reacting once to each of: a new nonce, an expired
   * token, 503 with Retry-After. `send` makes the request with the given headers (fhir-kit-client or fetch).
   */
  async call<T>(
    method: string,
    url: string,
    spec: TokenSpec,
    send: (headers: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const reacted = new Set<string>();
    for (;;) {
      try {
        return await send(await this.authHeaders(method, url, spec));
      } catch (error) {
        if (!isCallError(error)) throw error;
        const { status } = error.response;
        const challenge = error.config.headers.get('www-authenticate') ?? '';
        const reaction =
          status === 401 && /use_dpop_nonce/.test(challenge)
            ? 'nonce'
            : status === 401 && /invalid_token/.test(challenge)
              ? 'token'
              : status === 503 && error.config.headers.get('retry-after')
                ? 'wait'
                : undefined;
        if (!reaction || reacted.has(reaction)) throw error;
        reacted.add(reaction);
        const retry =
          reaction === 'nonce'
            ? await this.onApiNonce(error.config.headers.get('dpop-nonce') ?? '')
            : reaction === 'token'
              ? await this.onInvalidToken(spec)
              : await this.onRetryAfter(Number(error.config.headers.get('retry-after')));
        if (!retry) throw error;
      }
    }
  }

  /** A fhir-kit-client for a service's FHIR base. */
  fhir(service: string, path = ''): Client {
    return new Client({ baseUrl: `${this.serviceBase(service)}${path}` });
  }

  /** A plain HTTP call (non-FHIR answers such as ITI-68's PDF), failing as fhir-kit-client does. */
  async http(method: string, url: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer<Buffer>> {
    const response = await fetch(url, { method, headers, body });
    const data = Buffer.from(await response.arrayBuffer());
    if (!response.ok)
      throw {
        response: { status: response.status, data: data.toString('utf8') },
        config: { headers: response.headers },
      } satisfies CallError;
    return { status: response.status, data, headers: response.headers };
  }
}

/** Response headers of a fhir-kit-client answer. */
export function headersOf(data: unknown): Headers | undefined {
  return (data as { __response?: Response } | undefined)?.__response?.headers;
}

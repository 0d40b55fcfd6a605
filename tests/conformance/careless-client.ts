import { SignJWT } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { type TokenSpec } from '../../src/clients/reference-client';
import { PJD_LIST, ReferenceVendor, TEST_PATIENTS, type VendorOptions } from '../../src/clients/reference-vendor';
import type { AssertionOptions } from '../../src/trust/client-assertion-signer';
import type { ProofOptions } from '../../src/trust/dpop-client';

/**
 * The reference client with one switchable defect, named by the requirement it breaks. A defect Navet
 * itself would refuse (and so stop the day's work) is made as one extra request at the end of the run;
 * the others change how the client behaves throughout.
 */
type Json = Record<string, any>;
const HARRY_HANDEL = '08077000292';
const INGRID_SOLHEIM = '10086148248';
/** A token request made only to show a defect: a key no flow uses, so that FK3 is not touched. */
const SPARE: TokenSpec = { scope: 'nhn:phr/mhd/read-document' };

export class CarelessVendor extends ReferenceVendor {
  private lastJti: string | undefined;
  private lastProofJti: string | undefined;
  private lastAllergy: Json | undefined;
  private extra: Partial<AssertionOptions> | undefined;
  private extraSigner: ((spec: TokenSpec) => Promise<string>) | undefined;
  private proofDefect: ((options: ProofOptions) => ProofOptions) | undefined;

  constructor(
    options: VendorOptions,
    readonly defect: string,
  ) {
    super(options);
  }

  private is(id: string): boolean {
    return this.defect === id;
  }

  // ---- behaviour throughout ----
  protected override async discover() {
    if (this.is('HID-DISCOVERY')) return { issuer: this.issuer, token_endpoint: `${this.issuer}/connect/token` };
    if (this.is('HID-DISCOVERY-CACHED')) this.metadata = undefined;
    return super.discover();
  }

  override async accessToken(spec: TokenSpec): Promise<string> {
    if (this.is('HID-TOKEN-REUSE')) this.forgetToken(spec);
    return super.accessToken(spec);
  }

  protected override assertionOptions(spec: TokenSpec): AssertionOptions {
    const options = super.assertionOptions(spec);
    const jti = randomUUID();
    const careless: AssertionOptions = { ...options, jti, ...this.extra };
    if (this.is('HID-CLOCK')) Object.assign(careless, { iatOffsetSeconds: -15, lifetimeSeconds: 45 });
    if (this.is('HID-ASSERTION-DETAILS') && options.extraClaims?.assertion_details)
      careless.extraClaims = { authorization_details: options.extraClaims.assertion_details };
    if (!this.extra) this.lastJti = careless.jti;
    return careless;
  }

  protected override signAssertion(spec: TokenSpec): Promise<string> {
    return this.extraSigner ? this.extraSigner(spec) : super.signAssertion(spec);
  }

  protected override tokenForm(spec: TokenSpec, assertion: string): Record<string, string> {
    const form = super.tokenForm(spec, assertion);
    return this.extra && this.is('HID-ASSERTION-TYPE') ? { ...form, client_assertion_type: 'jwt-bearer' } : form;
  }

  protected override proof(options: ProofOptions): Promise<string> {
    const jti = randomUUID();
    const changed = this.proofDefect ? this.proofDefect({ ...options, jti }) : { ...options, jti };
    if (!this.proofDefect) this.lastProofJti = jti;
    return super.proof(changed);
  }

  protected override onApiNonce(nonce: string): boolean | Promise<boolean> {
    return this.is('HID-CH-DPOP-NONCE-RETRY') ? true : super.onApiNonce(nonce);
  }

  protected override async onInvalidToken(spec: TokenSpec): Promise<boolean> {
    if (this.is('HID-CH-EXPIRED-NEW-TOKEN')) return true; // the rejected token goes out again
    if (this.is('HID-CH-EXPIRED-NO-LOOP')) {
      this.forgetToken(spec);
      for (let i = 0; i < 3; i++) await this.accessToken(spec).then(() => this.forgetToken(spec)); // three tokens, and a fourth for the retry
      return true;
    }
    return super.onInvalidToken(spec);
  }

  protected override async onRetryAfter(seconds: number): Promise<boolean> {
    if (this.is('NAV-CH-503-BACKOFF')) return true;
    return super.onRetryAfter(this.is('NAV-CH-503-RESUME') ? 11 : seconds);
  }

  protected override pjdHeaders(): Record<string, string> {
    const headers = super.pjdHeaders();
    return this.is('PJD-ACCEPT-FHIR') ? { ...headers, Accept: 'application/json' } : headers;
  }

  protected override ppsHeaders(nin: string): Record<string, string> {
    const headers = super.ppsHeaders(nin);
    if (this.is('PPS-ACCESS-BASIS')) delete headers['access-basis'];
    if (this.is('PPS-CORRELATION-ID')) delete headers['correlation-id'];
    return headers;
  }

  protected override nextLink(bundle: Json): string | undefined {
    return this.is('NAV-CH-PAGING-NEXT') ? undefined : super.nextLink(bundle);
  }

  protected override async showHiddenCount(count: number): Promise<void> {
    if (!this.is('PJD-CH-NORS-COUNT')) await super.showHiddenCount(count);
  }

  protected override async onKjRefused(nin: string): Promise<void> {
    if (!this.is('KJ-CH-BLOCKED-NO-OTHER-BASIS')) return super.onKjRefused(nin);
    const kj = this.fhir('critical-information');
    await this.call(
      'GET',
      `${this.serviceBase('critical-information')}/AllergyIntolerance`,
      { scope: 'nhn:kjernejournal/api', attest: true, patient: nin },
      (headers) =>
        kj.search({
          resourceType: 'AllergyIntolerance',
          searchParams: {},
          options: { headers: { ...headers, ...this.kjHeaders(nin), 'nhn-access-basis': 'AKUTT' } },
        }),
    );
  }

  protected override reconcile(bundle: Json): Json {
    const copy = super.reconcile(bundle);
    if (this.is('SFM-SEND-ALL-STATEMENTS')) {
      const last = [...copy.entry].reverse().find((e: Json) => e.resource.resourceType === 'MedicationStatement');
      copy.entry = copy.entry.filter((e: Json) => e !== last);
    }
    return copy;
  }

  protected override async onSendConflict(nin: string, refused: Json): Promise<void> {
    if (this.is('SFM-CH-CONFLICT-REREAD')) {
      const changed = JSON.parse(JSON.stringify(refused)) as Json;
      changed.entry.find((e: Json) => e.resource.resourceType === 'MedicationStatement').resource.note = [
        { text: 'sendt på nytt uten ny henting' },
      ];
      await this.sendMedication(nin, changed);
      return;
    }
    if (this.is('SFM-CH-CONFLICT-NO-RESEND')) {
      await this.getMedication(nin);
      await this.sendMedication(nin, refused);
      return;
    }
    await super.onSendConflict(nin, refused);
  }

  /** A careless client keeps going after a failure of its own making. */
  protected override async step(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      // recorded by Navet; the grade says what went wrong
      if (process.env.NAVET_DEBUG_CARELESS) console.log(this.defect, error);
    }
  }

  override async run(profiles: readonly string[]): Promise<void> {
    await super.run(profiles);
    await this.step(() => this.extraDefectiveRequest());
  }

  // ---- one extra request that shows a defect Navet would refuse ----
  private async tokenWith(extra: Partial<AssertionOptions>, spec: TokenSpec = SPARE): Promise<void> {
    this.extra = extra;
    try {
      await this.requestToken(spec);
    } finally {
      this.extra = undefined;
    }
  }

  private async signedWith(sign: (spec: TokenSpec) => Promise<string>): Promise<void> {
    this.extraSigner = sign;
    try {
      await this.tokenWith({});
    } finally {
      this.extraSigner = undefined;
    }
  }

  private async pingWith(defect: (options: ProofOptions) => ProofOptions): Promise<void> {
    this.proofDefect = defect;
    try {
      await this.pingPjd();
    } finally {
      this.proofDefect = undefined;
    }
  }

  private attestedToken(spec: TokenSpec, change: (a: Json) => void): Promise<void> {
    const attestation = this.attestationFor(spec.patient) as Json;
    change(attestation);
    return this.tokenWith({ extraClaims: { assertion_details: [attestation] } }, spec);
  }

  private kjStatus(nin: string, spec: TokenSpec, headers: Record<string, string>) {
    const kj = this.fhir('critical-information');
    return this.call('POST', `${this.serviceBase('critical-information')}/status`, spec, (auth) =>
      kj.request('status', {
        method: 'POST',
        body: { nin },
        options: { headers: { ...auth, ...headers, 'Content-Type': 'application/json' } },
      }),
    );
  }

  private async extraDefectiveRequest(): Promise<void> {
    const kjSpec = (nin: string): TokenSpec => ({ scope: 'nhn:kjernejournal/api', attest: true, patient: nin });
    const harry: TokenSpec = { scope: PJD_LIST, attest: true, patient: HARRY_HANDEL };
    const pjd = this.fhir('pjd', '/R4/fhir');
    const pps = this.fhir('pps');
    const line = TEST_PATIENTS.lineDanser;
    const gry = TEST_PATIENTS.gryTelokk;
    const searchUrl = `${this.serviceBase('pjd')}/R4/fhir/DocumentReference/_search`;
    const labSubmission = async (change: (bundle: Json) => void) => {
      const bundle = this.labBundle(gry, `BAD-${randomUUID().slice(0, 8)}`);
      change(bundle);
      await this.call('POST', `${this.serviceBase('pps')}/`, { scope: 'navet:pps/submit-result' }, (headers) =>
        pps.transaction({ body: bundle as never, options: { headers } }),
      );
    };
    const provide = async (change: (bundle: Json) => void) => {
      const bundle = this.documentBundle(gry);
      change(bundle);
      await this.call(
        'POST',
        `${this.serviceBase('pjd')}/R4/fhir/`,
        { scope: 'navet:pjd/provide-document', attest: true, patient: gry },
        (headers) =>
          pjd.transaction({ body: bundle as never, options: { headers: { ...headers, ...this.sourceSystem() } } }),
      );
    };
    switch (this.defect) {
      case 'HID-ASSERTION-JTI':
        return this.tokenWith({ jti: this.lastJti });
      case 'HID-ASSERTION-LIFETIME':
        return this.tokenWith({ lifetimeSeconds: 120 });
      case 'HID-ASSERTION-AUD':
        return this.tokenWith({ aud: 'https://helseid-sts.test.nhn.no' });
      case 'HID-ASSERTION-TYPE':
        return this.tokenWith({});
      case 'HID-ASSERTION-ISS-SUB':
        return this.signedWith(async () => {
          const key = await import('jose').then((j) => j.importJWK(this.config.privateJwk, 'RS256'));
          const now = Math.floor(Date.now() / 1000);
          return new SignJWT({})
            .setProtectedHeader({ alg: 'RS256', kid: this.config.privateJwk.kid, typ: 'client-authentication+jwt' })
            .setIssuer(this.config.clientId)
            .setSubject('another-client')
            .setAudience(this.issuer)
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + 30)
            .setJti(randomUUID())
            .sign(key);
        });
      case 'HID-ASSERTION-ALG':
        return this.signedWith(async () => {
          const now = Math.floor(Date.now() / 1000);
          return new SignJWT({})
            .setProtectedHeader({ alg: 'HS256', typ: 'client-authentication+jwt' })
            .setIssuer(this.config.clientId)
            .setSubject(this.config.clientId)
            .setAudience(this.issuer)
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + 30)
            .setJti(randomUUID())
            .sign(randomBytes(32));
        });
      case 'HID-DPOP-TOKEN': {
        const { token_endpoint: endpoint } = await this.discover();
        await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(this.tokenForm(SPARE, await this.signAssertion(SPARE))).toString(),
        });
        return;
      }
      case 'HID-DPOP-NONCE-TOKEN': {
        const { token_endpoint: endpoint } = await this.discover();
        await fetch(endpoint, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            DPoP: await this.proof({ method: 'POST', url: endpoint }),
          },
          body: new URLSearchParams(this.tokenForm(SPARE, await this.signAssertion(SPARE))).toString(),
        });
        return; // the use_dpop_nonce answer is never retried
      }
      case 'HID-DPOP-JTI': {
        const jti = this.lastProofJti;
        return this.pingWith((o) => ({ ...o, jti }));
      }
      case 'HID-DPOP-HTM-HTU':
        return this.pingWith((o) => ({ ...o, url: `${o.url}?with=query` }));
      case 'HID-DPOP-ATH':
        return this.pingWith((o) => ({ ...o, accessToken: undefined }));
      case 'HID-TOKEN-IN-HEADER': {
        const token = await this.accessToken({ scope: PJD_LIST });
        await this.http('GET', `${this.serviceBase('pjd')}/pingauth?access_token=${encodeURIComponent(token)}`, {});
        return;
      }
      case 'ATT-PURPOSE-OF-USE':
        return this.attestedToken(harry, (a) => {
          delete a.care_relationship.purpose_of_use;
        });
      case 'ATT-SERVICE-OR-DETAILS':
        return this.attestedToken(harry, (a) => {
          delete a.care_relationship.healthcare_service;
          delete a.care_relationship.purpose_of_use_details;
        });
      case 'ATT-DECISION-REF':
        return this.attestedToken(harry, (a) => {
          delete a.care_relationship.decision_ref.user_selected;
        });
      case 'ATT-LEGAL-ENTITY':
        return this.attestedToken(harry, (a) => {
          a.practitioner = {
            ...a.practitioner,
            legal_entity: { id: '12345', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
          };
        });
      case 'ATT-TOA':
        return this.attestedToken(harry, (a) => {
          a.toa = Math.floor(Date.now() / 1000) - 7200;
        });
      case 'ATT-PATIENT-BOUND': {
        await this.kjStatus(gry, kjSpec(line), this.kjHeaders());
        return;
      }
      case 'PJD-SOURCE-SYSTEM': {
        const headers = this.pjdHeaders();
        delete headers['nhn-source-system'];
        await this.call('POST', searchUrl, { scope: PJD_LIST, attest: true, patient: line }, (auth) =>
          pjd.request('DocumentReference/_search', {
            method: 'POST',
            body: new URLSearchParams({ 'patient.identifier': line }).toString(),
            options: { headers: { ...auth, ...headers, 'Content-Type': 'application/x-www-form-urlencoded' } },
          }),
        );
        return;
      }
      case 'PJD-SEARCH-POST-FORM': {
        await this.call('POST', searchUrl, { scope: PJD_LIST, attest: true, patient: line }, (auth) =>
          pjd.request('DocumentReference/_search', {
            method: 'POST',
            body: { 'patient.identifier': line },
            options: { headers: { ...auth, ...this.pjdHeaders(), 'Content-Type': 'application/json' } },
          }),
        );
        return;
      }
      case 'PJD-RETRIEVE-PATIENT': {
        const { entries } = await this.findDocuments(line, { status: 'current' });
        const url = entries[0].resource.content[0].attachment.url as string;
        await this.call('GET', url, { scope: 'nhn:phr/mhd/read-document', attest: true, patient: line }, (headers) =>
          this.http('GET', url, { ...headers, ...this.sourceSystem() }),
        );
        return;
      }
      case 'PJD-RETRIEVE-AS-GIVEN': {
        // the document this client published (its unique id holds no national id), by a URL put together by hand
        const { entries } = await this.findDocuments(gry, { status: 'current' });
        const given = new URL(
          entries.map((e) => e.resource.content[0].attachment.url as string).find((u) => !u.includes(gry)) as string,
        );
        await this.retrieveDocument(
          gry,
          `${given.origin}${given.pathname.replace('/mhd/document', '/mhd/iti68/document')}${given.search}`,
        );
        return;
      }
      case 'PJD-PROVIDE-TRANSACTION':
        return provide((b) => {
          b.type = 'batch';
        });
      case 'PJD-PROVIDE-CODES':
        return provide((b) => {
          b.entry[1].resource.category = [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9999', code: 'A00-1' }] }];
        });
      case 'KJ-STATUS-FIRST': {
        const kj = this.fhir('critical-information');
        await this.call(
          'GET',
          `${this.serviceBase('critical-information')}/AllergyIntolerance`,
          kjSpec(HARRY_HANDEL),
          (headers) =>
            kj.search({
              resourceType: 'AllergyIntolerance',
              searchParams: {},
              options: { headers: { ...headers, ...this.kjHeaders(HARRY_HANDEL) } },
            }),
        );
        return;
      }
      case 'KJ-SOURCE-SYSTEM': {
        const headers = this.kjHeaders();
        delete headers['nhn-source-system'];
        await this.kjStatus(line, kjSpec(line), headers);
        return;
      }
      case 'KJ-USER-ROLE': {
        await this.kjStatus(line, kjSpec(line), { ...this.kjHeaders(), 'nhn-user-role': 'LE' });
        return;
      }
      case 'KJ-PATIENT-HEADER': {
        const kj = this.fhir('critical-information');
        const headers = this.kjHeaders();
        await this.call('GET', `${this.serviceBase('critical-information')}/AllergyIntolerance`, kjSpec(line), (auth) =>
          kj.search({
            resourceType: 'AllergyIntolerance',
            searchParams: {},
            options: { headers: { ...auth, ...headers } },
          }),
        );
        return;
      }
      case 'KJ-UPDATE-VERSION': {
        const kj = this.fhir('critical-information');
        const base = this.serviceBase('critical-information');
        const created: Json = await this.call('POST', `${base}/AllergyIntolerance`, kjSpec(line), (headers) =>
          kj.create({
            resourceType: 'AllergyIntolerance',
            body: this.drugReaction(line) as never,
            options: { headers: { ...headers, ...this.kjHeaders(line) } },
          }),
        );
        const { meta, ...withoutVersion } = created;
        void meta;
        await this.call('PUT', `${base}/AllergyIntolerance/${created.id}`, kjSpec(line), (headers) =>
          kj.update({
            resourceType: 'AllergyIntolerance',
            id: created.id,
            body: { ...withoutVersion, criticality: 'low' } as never,
            options: { headers: { ...headers, ...this.kjHeaders(line) } },
          }),
        );
        return;
      }
      case 'SFM-GET-BEFORE-SEND': {
        await this.sendMedication(
          INGRID_SOLHEIM,
          this.reconcile(await this.getMedicationBundleWithoutLookup(INGRID_SOLHEIM)),
        );
        return;
      }
      case 'SFM-DPOP-SCOPE':
        return this.tokenWith(
          {},
          { scope: 'e-helse:sfm.api/sfm.api', attest: true, patient: TEST_PATIENTS.troyHammer },
        );
      case 'PPS-PERSON-ID': {
        await this.call(
          'POST',
          `${this.serviceBase('pps')}/DiagnosticReport/_search`,
          { scope: 'nhn:pps/provesvar-read', attest: true, patient: gry },
          (headers) =>
            pps.request('DiagnosticReport/_search', {
              method: 'POST',
              body: new URLSearchParams({ 'patient.identifier': gry }).toString(),
              options: { headers: { ...headers, ...this.ppsHeaders(gry) } },
            }),
        );
        return;
      }
      case 'PPS-SEARCH-POST': {
        const url = `${this.serviceBase('pps')}/DiagnosticReport?date=ge2000-01-01`;
        await this.call('GET', url, { scope: 'nhn:pps/provesvar-read', attest: true, patient: gry }, (headers) =>
          pps.request(url, { options: { headers: { ...headers, ...this.ppsHeaders(gry) } } }),
        );
        return;
      }
      case 'PPS-SRC-UCUM':
        return labSubmission((b) => {
          b.entry.find((e: Json) => e.resource.resourceType === 'Observation').resource.valueQuantity.system =
            'http://unitsofmeasure.com';
        });
      case 'PPS-SRC-SPECIMEN':
        return labSubmission((b) => {
          delete b.entry.find((e: Json) => e.resource.resourceType === 'Specimen').resource.accessionIdentifier;
        });
      case 'PPS-SRC-REPORT-DATE':
        return labSubmission((b) => {
          delete b.entry.find((e: Json) => e.resource.resourceType === 'DiagnosticReport').resource.extension;
        });
      case 'NAV-NO-NIN-IN-URL': {
        const kj = this.fhir('critical-information');
        await this.call(
          'GET',
          `${this.serviceBase('critical-information')}/AllergyIntolerance`,
          kjSpec(line),
          (headers) =>
            kj.search({
              resourceType: 'AllergyIntolerance',
              searchParams: { patient: line },
              options: { headers: { ...headers, ...this.kjHeaders(line) } },
            }),
        );
        return;
      }
      default:
    }
  }

  /** A bundle for a patient as if looked up, without the look-up: built from another patient's answer is not possible, so a bare one. */
  private async getMedicationBundleWithoutLookup(nin: string): Promise<Json> {
    return {
      resourceType: 'Bundle',
      type: 'document',
      meta: { profile: ['http://ehelse.no/fhir/StructureDefinition/sfm-MedicationBundle'] },
      entry: [
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: {
            resourceType: 'Composition',
            status: 'final',
            type: { coding: [{ system: 'http://loinc.org', code: '11503-0' }] },
            section: [],
          },
        },
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: nin }] },
        },
      ],
    };
  }
}

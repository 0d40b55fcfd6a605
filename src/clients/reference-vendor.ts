import { randomUUID } from 'node:crypto';
import {
  headersOf,
  isCallError,
  ReferenceClient,
  type ReferenceClientConfig,
  type TokenSpec,
} from './reference-client';

/**
 * "The vendor's tests": what a careful EPR does with each national service, one flow per conformance
 * profile, built on ReferenceClient. Steps a careless client might get wrong are methods of their own.
 */
type Json = Record<string, any>;
export const TEST_PATIENTS = {
  lineDanser: '13116900216',
  gryTelokk: '12057900499',
  troyHammer: '25039296929',
} as const;
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const VOLVEN_9602 = 'urn:oid:2.16.578.1.12.4.1.1.9602';
const NILAR = 'http://nhn.no/fhir/nilar/StructureDefinition';
const KJ = 'http://nhn.no/kj/fhir/';
const EHELSE = (n: string) => `http://ehelse.no/fhir/CodeSystem/no-kodeverk-${n}`;
export const PJD_LIST = 'nhn:phr/mhd/read-documentreferences';

export interface VendorOptions extends ReferenceClientConfig {
  /** The vendor's test checks what its screen showed and tells Navet (the NORS count). */
  report?: (challenge: string, values: Record<string, unknown>) => Promise<void>;
}

export class ReferenceVendor extends ReferenceClient {
  constructor(readonly options: VendorOptions) {
    super(options);
  }

  protected sourceSystem(): Record<string, string> {
    return { 'nhn-source-system': this.options.sourceSystem ?? 'Navet reference EPJ 1.0' };
  }

  /** Runs the flows of the given profiles in the order a day's work would touch them. */
  async run(profiles: readonly string[]): Promise<void> {
    const has = (p: string) => profiles.includes(p);
    // a connection check at start-up and now and then: each call reuses the token while it is valid
    if (has('helseid-client')) for (const attest of [false, true, false]) await this.step(() => this.pingPjd(attest));
    if (has('pjd-source')) await this.step(() => this.publishDocument(TEST_PATIENTS.gryTelokk));
    if (has('pps-lab-source'))
      for (const id of ['A', 'B'])
        await this.step(() => this.submitLabReport(TEST_PATIENTS.gryTelokk, `REF-${randomUUID().slice(0, 8)}-${id}`));
    if (has('pjd-consumer')) await this.step(() => this.readDocuments(TEST_PATIENTS.lineDanser));
    if (has('kj-critical-information'))
      for (const nin of [TEST_PATIENTS.gryTelokk, TEST_PATIENTS.lineDanser])
        await this.step(() => this.criticalInformation(nin));
    if (has('sfm-basis')) await this.step(() => this.reconcileMedication(TEST_PATIENTS.troyHammer));
    if (has('pps-consumer'))
      for (const type of ['DiagnosticReport', 'Observation'])
        await this.step(() => this.readLabResults(TEST_PATIENTS.gryTelokk, type));
  }

  /** One piece of the day's work; a careful client lets a failure surface. */
  protected async step(work: () => Promise<unknown>): Promise<void> {
    await work();
  }

  // ---- HelseID (an authenticated ping) ----
  async pingPjd(attest = false): Promise<void> {
    const url = `${this.serviceBase('pjd')}/pingauth`;
    await this.call('GET', url, { scope: PJD_LIST, attest }, (headers) => this.http('GET', url, headers));
  }

  // ---- PJD consumer ----
  protected pjdHeaders(): Record<string, string> {
    return { ...this.sourceSystem(), Accept: 'application/fhir+json; fhirVersion=4.0', 'nhn-event-id': randomUUID() };
  }

  /** ITI-67 as a form POST; every page is read by following next. Answers the entries and the NORS count. */
  async findDocuments(nin: string, form: Record<string, string>): Promise<{ entries: Json[]; norsCount: number }> {
    const spec: TokenSpec = { scope: PJD_LIST, attest: true, patient: nin };
    const pjd = this.fhir('pjd', '/R4/fhir');
    const url = `${this.serviceBase('pjd')}/R4/fhir/DocumentReference/_search`;
    let page: Json = await this.call('POST', url, spec, (headers) =>
      pjd.request('DocumentReference/_search', {
        method: 'POST',
        body: new URLSearchParams({ 'patient.identifier': nin, ...form }).toString(),
        options: { headers: { ...headers, ...this.pjdHeaders(), 'Content-Type': 'application/x-www-form-urlencoded' } },
      }),
    );
    const norsCount = Number(headersOf(page)?.get('nhn-securitylabel-nors-count') ?? 0);
    const entries: Json[] = [...(page.entry ?? [])];
    for (let next = this.nextLink(page); next; next = this.nextLink(page)) {
      const link = next;
      page = await this.call('GET', link, spec, (headers) =>
        pjd.request(link, { options: { headers: { ...headers, ...this.pjdHeaders() } } }),
      );
      entries.push(...(page.entry ?? []));
    }
    return { entries, norsCount };
  }

  protected nextLink(bundle: Json): string | undefined {
    return (bundle.link as { relation: string; url: string }[] | undefined)?.find((l) => l.relation === 'next')?.url;
  }

  /** The screen says how many documents the patient has hidden; the vendor's test reports what it showed. */
  protected async showHiddenCount(count: number): Promise<void> {
    if (count > 0) await this.options.report?.('nors-hidden', { norsCount: count });
  }

  async readDocuments(nin: string): Promise<void> {
    const all = await this.findDocuments(nin, { status: 'current' });
    await this.showHiddenCount(all.norsCount);
    const url = all.entries.map((e) => e.resource?.content?.[0]?.attachment?.url).find(Boolean) as string | undefined;
    if (url) await this.retrieveDocument(nin, url);
    const summaries = await this.findDocuments(nin, { status: 'current', category: `${VOLVEN_9602}|A00-1` });
    await this.showHiddenCount(summaries.norsCount);
  }

  /** ITI-68 by the link the DocumentReference gave. */
  async retrieveDocument(nin: string, url: string): Promise<Buffer> {
    const answer = await this.call(
      'GET',
      url,
      { scope: 'nhn:phr/mhd/read-document', attest: true, patient: nin },
      (headers) =>
        this.http('GET', url, {
          ...headers,
          ...this.sourceSystem(),
          'nhn-patient-nin': nin,
          Accept: 'application/pdf, application/xml',
        }),
    );
    return answer.data;
  }

  // ---- PJD source ----
  protected documentBundle(nin: string): Json {
    const id = (n: number) => `urn:uuid:${randomUUID().slice(0, 35)}${n}`.slice(0, 45);
    const [list, document, binary] = [id(1), id(2), id(3)];
    return {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: list,
          resource: { resourceType: 'List', status: 'current', mode: 'working', title: 'Innsending fra referanse-EPJ' },
          request: { method: 'POST', url: 'List' },
        },
        {
          fullUrl: document,
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            subject: { identifier: { system: FNR, value: nin } },
            date: new Date().toISOString(),
            category: [{ coding: [{ system: VOLVEN_9602, code: 'A00-1', display: 'Epikriser og sammenfatninger' }] }],
            type: { coding: [{ system: VOLVEN_9602, code: 'A03-2', display: 'Epikrise' }] },
            content: [
              {
                attachment: { url: binary, title: 'Epikrise' },
                format: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.3', code: 'urn:no:ehelse:document:pdf' },
              },
            ],
          },
          request: { method: 'POST', url: 'DocumentReference' },
        },
        {
          fullUrl: binary,
          resource: {
            resourceType: 'Binary',
            contentType: 'application/pdf',
            data: Buffer.from('%PDF-1.4\n% Navet reference EPJ\n%%EOF\n').toString('base64'),
          },
          request: { method: 'POST', url: 'Binary' },
        },
      ],
    };
  }

  async publishDocument(nin: string): Promise<void> {
    const url = `${this.serviceBase('pjd')}/R4/fhir/`; // fhir-kit-client posts a transaction to the base with a slash
    const pjd = this.fhir('pjd', '/R4/fhir');
    await this.call('POST', url, { scope: 'navet:pjd/provide-document', attest: true, patient: nin }, (headers) =>
      pjd.transaction({
        body: this.documentBundle(nin) as never,
        options: { headers: { ...headers, ...this.sourceSystem() } },
      }),
    );
  }

  // ---- Kjernejournal critical information ----
  protected kjHeaders(nin?: string): Record<string, string> {
    return {
      ...this.sourceSystem(),
      'nhn-user-role': encodeURIComponent(JSON.stringify({ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE' })),
      'nhn-access-basis': 'SAMTYKKE',
      ...(nin ? { 'nhn-patient-nin': nin } : {}),
    };
  }

  protected drugReaction(nin: string): Json {
    return {
      resourceType: 'AllergyIntolerance',
      meta: { profile: [`${KJ}StructureDefinition/KjAllergyIntolerance`] },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
      },
      verificationStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' },
        ],
      },
      category: ['medication'],
      criticality: 'high',
      code: {
        coding: [
          {
            system: `${KJ}CodeSystem/ActiveSubstance`,
            code: 'ID_0B9C7E51-2A8D-4C3F-A1B2-3C4D5E6F7A8B',
            display: 'Fenoksymetylpenicillin',
            userSelected: true,
          },
        ],
      },
      patient: { identifier: { system: FNR, value: nin } },
    };
  }

  /** Status first; then the allergies; then register one and update it. A block or a reservation ends the flow for the patient. */
  async criticalInformation(nin: string): Promise<void> {
    const spec: TokenSpec = { scope: 'nhn:kjernejournal/api', attest: true, patient: nin };
    const kj = this.fhir('critical-information');
    const base = this.serviceBase('critical-information');
    const status: Json = await this.call('POST', `${base}/status`, spec, (headers) =>
      kj.request('status', {
        method: 'POST',
        body: { nin },
        options: { headers: { ...headers, ...this.kjHeaders(), 'Content-Type': 'application/json' } },
      }),
    );
    if (status.hprNumberBlocked || status.privacy?.kjernejournalReservation?.reserved) return;
    try {
      await this.call('GET', `${base}/AllergyIntolerance`, spec, (headers) =>
        kj.search({
          resourceType: 'AllergyIntolerance',
          searchParams: {},
          options: { headers: { ...headers, ...this.kjHeaders(nin) } },
        }),
      );
    } catch (error) {
      if (isCallError(error) && error.response.status === 403) return this.onKjRefused(nin);
      throw error;
    }
    const created: Json = await this.call('POST', `${base}/AllergyIntolerance`, spec, (headers) =>
      kj.create({
        resourceType: 'AllergyIntolerance',
        body: this.drugReaction(nin) as never,
        options: { headers: { ...headers, ...this.kjHeaders(nin) } },
      }),
    );
    const updated = { ...created, criticality: 'low' };
    await this.call('PUT', `${base}/AllergyIntolerance/${created.id}`, spec, (headers) =>
      kj.update({
        resourceType: 'AllergyIntolerance',
        id: created.id,
        body: updated as never,
        options: { headers: { ...headers, ...this.kjHeaders(nin) } },
      }),
    );
  }

  /** Blocked or reserved: nothing more for this patient, under no other access basis. */
  protected async onKjRefused(_nin: string): Promise<void> {}

  // ---- SFM / PLL ----
  protected getParameters(nin: string): Json {
    return {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: FNR, value: nin }] } },
        { name: 'SamtykkeKjernejournal', valueCoding: { code: 'HPMOTTATTSAMTYKKE' } },
      ],
    };
  }

  async getMedication(nin: string): Promise<Json> {
    const sfm = this.fhir('sfm');
    const answer: Json = await this.call(
      'POST',
      `${this.serviceBase('sfm')}/Patient/$getMedication`,
      this.sfmToken(nin),
      (headers) =>
        sfm.operation({
          name: 'getMedication',
          resourceType: 'Patient',
          input: this.getParameters(nin),
          options: { headers },
        }),
    );
    return (answer.parameter as { name: string; resource?: Json }[]).find((p) => p.name === 'medication')
      ?.resource as Json;
  }

  protected sfmToken(nin: string): TokenSpec {
    return { scope: 'e-helse:sfm.api/sfm.api2', attest: true, patient: nin };
  }

  /** The reconciliation the user does: here, a note on the first statement. Every statement goes back. */
  protected reconcile(bundle: Json): Json {
    const copy = JSON.parse(JSON.stringify(bundle)) as Json;
    const statement = (copy.entry as { resource: Json }[])
      .map((e) => e.resource)
      .find((r) => r.resourceType === 'MedicationStatement');
    if (statement) statement.note = [{ text: 'Samstemt i referanse-EPJ' }];
    return copy;
  }

  async sendMedication(nin: string, bundle: Json): Promise<Json> {
    const sfm = this.fhir('sfm');
    return this.call('POST', `${this.serviceBase('sfm')}/Patient/$sendMedication`, this.sfmToken(nin), (headers) =>
      sfm.operation({
        name: 'sendMedication',
        resourceType: 'Patient',
        input: { resourceType: 'Parameters', parameter: [{ name: 'medication', resource: bundle }] },
        options: { headers },
      }),
    );
  }

  /** get → reconcile → send; a conflict (someone reconciled meanwhile) means: read again and redo it, once. */
  async reconcileMedication(nin: string): Promise<void> {
    const bundle = this.reconcile(await this.getMedication(nin));
    try {
      await this.sendMedication(nin, bundle);
    } catch (error) {
      if (!isCallError(error) || error.response.status !== 409) throw error;
      await this.onSendConflict(nin, bundle);
    }
  }

  protected async onSendConflict(nin: string, _refused: Json): Promise<void> {
    await this.sendMedication(nin, this.reconcile(await this.getMedication(nin)));
  }

  // ---- Pasientens prøvesvar ----
  protected ppsHeaders(nin: string): Record<string, string> {
    return {
      'person-id': nin,
      'access-basis': 'SAMTYKKE',
      'correlation-id': randomUUID(),
      'Content-Type': 'application/x-www-form-urlencoded',
    };
  }

  /** A search (DiagnosticReport or Observation) as a form POST, every page read by following next. */
  async readLabResults(nin: string, type = 'DiagnosticReport'): Promise<Json[]> {
    const spec: TokenSpec = { scope: 'nhn:pps/provesvar-read', attest: true, patient: nin };
    const pps = this.fhir('pps');
    let page: Json = await this.call('POST', `${this.serviceBase('pps')}/${type}/_search`, spec, (headers) =>
      pps.request(`${type}/_search`, {
        method: 'POST',
        body: new URLSearchParams({ date: 'ge2000-01-01' }).toString(),
        options: { headers: { ...headers, ...this.ppsHeaders(nin) } },
      }),
    );
    const entries: Json[] = [...(page.entry ?? [])];
    for (let next = this.nextLink(page); next; next = this.nextLink(page)) {
      const link = next;
      page = await this.call('GET', link, spec, (headers) =>
        pps.request(link, { options: { headers: { ...headers, ...this.ppsHeaders(nin) } } }),
      );
      entries.push(...(page.entry ?? []));
    }
    return entries;
  }

  protected labBundle(nin: string, reportId: string): Json {
    const subject = { identifier: { system: FNR, value: nin } };
    const u = (n: number) => `urn:uuid:${randomUUID()}${n}`.slice(0, 45);
    const [report, specimen, request, performer, requester, observation] = [u(1), u(2), u(3), u(4), u(5), u(6)];
    const collected = new Date(Date.now() - 86_400_000).toISOString();
    const entry = (fullUrl: string, resource: Json) => ({
      fullUrl,
      resource,
      request: { method: 'POST', url: resource.resourceType },
    });
    return {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry(report, {
          resourceType: 'DiagnosticReport',
          status: 'final',
          extension: [{ url: `${NILAR}/nilar-report-date`, valueDateTime: new Date().toISOString() }],
          identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReportId', value: reportId }],
          basedOn: [{ reference: request }],
          category: [{ coding: [{ system: EHELSE('8202'), code: 'LAB', display: 'Medisinsk biokjemi' }] }],
          code: { coding: [{ system: EHELSE('8202'), code: 'LAB', display: 'Blodprøver' }] },
          subject,
          effectiveDateTime: collected,
          issued: new Date().toISOString(),
          performer: [{ reference: performer }],
          specimen: [{ reference: specimen }],
        }),
        entry(specimen, {
          resourceType: 'Specimen',
          subject,
          accessionIdentifier: {
            system: 'http://nhn.no/fhir/nilar/NamingSystem/AnalysedSubjectId',
            value: `A-${reportId}`,
          },
          type: { coding: [{ system: EHELSE('8351'), code: 'B', display: 'Blod' }] },
          collection: { collectedDateTime: collected },
        }),
        entry(request, {
          resourceType: 'ServiceRequest',
          status: 'completed',
          intent: 'order',
          subject,
          identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReqId', value: `REQ-${reportId}` }],
          requester: { reference: requester },
        }),
        entry(performer, {
          resourceType: 'PractitionerRole',
          practitioner: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '9144897' } },
          organization: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '974557746' } },
        }),
        entry(requester, {
          resourceType: 'PractitionerRole',
          practitioner: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '565501872' } },
          organization: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '100100673' } },
        }),
        entry(observation, {
          resourceType: 'Observation',
          status: 'final',
          extension: [{ url: `${NILAR}/diagnosticreportref`, valueReference: { reference: report } }],
          identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ResultItemId', value: `${reportId}-1` }],
          code: { coding: [{ system: EHELSE('7280'), code: 'NPU02319', display: 'Hemoglobin' }] },
          subject,
          effectiveDateTime: collected,
          valueQuantity: { value: 13.1, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
          interpretation: [{ coding: [{ system: EHELSE('8244'), code: 'N' }] }],
          specimen: { reference: specimen },
        }),
      ],
    };
  }

  async submitLabReport(nin: string, reportId: string): Promise<void> {
    const pps = this.fhir('pps');
    await this.call('POST', `${this.serviceBase('pps')}/`, { scope: 'navet:pps/submit-result' }, (headers) =>
      pps.transaction({ body: this.labBundle(nin, reportId) as never, options: { headers } }),
    );
  }
}

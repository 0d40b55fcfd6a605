import { badRequest, notFound } from '../fhir/operation-outcome';
import { parseSearchRequest } from '../fhir/search-request';
import type { FhirResource } from '../fhir/types';
import { identifierSystemOf, SYSTEMS } from '../codes/code-systems';
import { isValidId, type ResourceStore } from '../store/resource-store';
import { hasSecurityLabel } from '../fhir/security-labels';
import { NORS_LABEL, SECURITY_LABEL_SYSTEM } from '../codes/pjd-codes';
import { ownValue } from '../own-value';

/**
 * A citizen's privacy choices, stored as FHIR Consent resources in the sandbox (so testers can also
 * seed and inspect them through the FHIR API). Services read them at every request, so a choice takes
 * effect on the next one:
 * - reservation against Kjernejournal: critical information and the medication list show nothing clinical;
 * - a blocked document: its DocumentReference carries the 9603 label NORS, is never listed, and is counted
 *   in the NORS header;
 * - restricted Kjernejournal: critical information is shown only in emergency care (Navet's reading, not verified);
 * - a blocked health worker (by HPR number): that person cannot open the citizen's Kjernejournal;
 * - blocked lab results: hidden from health personnel's look-ups;
 * - a proxy (fullmakt): a note that a parent or another person acts for the citizen.
 */
export const PRIVACY_CHOICE_SYSTEM = 'https://navet.example/fhir/CodeSystem/privacy-choice';
export type PrivacyChoiceKind =
  | 'kjernejournal-reservation'
  | 'kjernejournal-restriction'
  | 'kjernejournal-blocked-practitioner'
  | 'document-block'
  | 'lab-results-block'
  | 'proxy';

const CHOICE_DISPLAYS: Record<PrivacyChoiceKind, string> = {
  'kjernejournal-reservation': 'Reservasjon mot Kjernejournal',
  'kjernejournal-restriction': 'Begrenset tilgang til Kjernejournal',
  'kjernejournal-blocked-practitioner': 'Sperret helsepersonell',
  'document-block': 'Sperret dokument',
  'lab-results-block': 'Sperrede prøvesvar',
  proxy: 'Fullmakt',
};
export const PROXY_RELATIONSHIPS: Record<string, { code: string; display: string }> = {
  parent: { code: 'PRN', display: 'parent' },
  guardian: { code: 'GUARD', display: 'guardian' },
  'power-of-attorney': { code: 'POWATT', display: 'power of attorney' },
};

export interface ProxyNote {
  id: string;
  proxyNin: string;
  proxyName?: string;
  relationship: string;
  since: string;
  validUntil?: string;
}

export interface BlockedPractitioner {
  id: string;
  hprNumber: string;
  name?: string;
  since: string;
}

export interface PrivacyChoices {
  kjernejournalReservation: { reserved: boolean; since?: string };
  kjernejournalRestriction: { restricted: boolean; since?: string };
  blockedPractitioners: BlockedPractitioner[];
  labResults: { blocked: boolean; since?: string };
  blockedDocuments: { documentId: string; since: string }[];
  proxies: ProxyNote[];
}

interface Consent extends FhirResource {
  id: string;
  status: string;
  dateTime?: string;
  category: { coding: { system: string; code: string }[] }[];
  provision?: {
    type?: string;
    period?: { start?: string; end?: string };
    data?: { meaning: string; reference: { reference: string } }[];
    actor?: {
      role: { coding: { system?: string; code: string; display?: string }[] };
      reference: { identifier?: { system?: string; value?: string }; display?: string };
    }[];
  };
}

const list = <T>(value: unknown): T[] =>
  Array.isArray(value) ? (value.filter((v) => typeof v === 'object' && v !== null) as T[]) : [];

/** The kind of a Navet privacy Consent; Consents seeded by hand may be shaped any way, so read with care. */
function kindOf(consent: Consent): PrivacyChoiceKind | undefined {
  return list<{ coding?: unknown }>(consent.category)
    .flatMap((c) => list<{ system?: unknown; code?: unknown }>(c.coding))
    .find((c) => c.system === PRIVACY_CHOICE_SYSTEM)?.code as PrivacyChoiceKind | undefined;
}

/** The citizen's patient reference: by fødselsnummer, and literal when the sandbox has the Patient. */
function patientReference(nin: string, patientId?: string): Record<string, unknown> {
  return {
    ...(patientId ? { reference: `Patient/${patientId}` } : {}),
    identifier: { system: identifierSystemOf(nin), value: nin },
  };
}

function consent(
  kind: PrivacyChoiceKind,
  nin: string,
  patientId: string | undefined,
  now: string,
  provision: Consent['provision'],
): FhirResource {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: 'patient-privacy',
          display: 'Privacy Consent',
        },
      ],
    },
    category: [{ coding: [{ system: PRIVACY_CHOICE_SYSTEM, code: kind, display: CHOICE_DISPLAYS[kind] }] }],
    patient: patientReference(nin, patientId),
    dateTime: now,
    policyRule: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: kind === 'proxy' ? 'OPTIN' : 'OPTOUT' },
      ],
    },
    provision,
  };
}

/**
 * A patient's privacy choices as health personnel's services heed them: read through the registry cache
 * (a Consent write bumps the sandbox generation, so every process sees it on its next request). The
 * citizen's own API, which writes and reads back in one request, reads through PrivacyChoiceStore itself.
 */
export function privacyChoicesForCare(
  store: ResourceStore,
  sandbox: string,
  nin: string,
  now: Date,
): Promise<PrivacyChoices> {
  return new PrivacyChoiceStore(store.cachedReads()).read(sandbox, nin, now);
}

export class PrivacyChoiceStore {
  constructor(private readonly store: ResourceStore) {}

  private async activeConsents(sandbox: string, nin: string, kind?: PrivacyChoiceKind): Promise<Consent[]> {
    const params: [string, string][] = [
      ['patient:identifier', `${SYSTEMS.fnr}|${nin},${SYSTEMS.dnr}|${nin}`],
      ['status', 'active'],
      ['_sort', 'date'],
    ];
    if (kind) params.push(['category', `${PRIVACY_CHOICE_SYSTEM}|${kind}`]);
    const found = await this.store.search(sandbox, {
      ...parseSearchRequest('Consent', params),
      count: 1000,
      totalNone: true,
    });
    return found.matches as Consent[];
  }

  /** What the citizen has chosen, read fresh from the sandbox at every call. */
  async read(sandbox: string, nin: string, now: Date): Promise<PrivacyChoices> {
    const choices: PrivacyChoices = {
      kjernejournalReservation: { reserved: false },
      kjernejournalRestriction: { restricted: false },
      blockedPractitioners: [],
      labResults: { blocked: false },
      blockedDocuments: [],
      proxies: [],
    };
    for (const item of await this.activeConsents(sandbox, nin)) {
      const since = item.dateTime ?? '';
      switch (kindOf(item)) {
        case 'kjernejournal-reservation':
          choices.kjernejournalReservation = { reserved: true, since };
          break;
        case 'lab-results-block':
          choices.labResults = { blocked: true, since };
          break;
        case 'kjernejournal-restriction':
          choices.kjernejournalRestriction = { restricted: true, since };
          break;
        case 'kjernejournal-blocked-practitioner': {
          const actor = list<NonNullable<NonNullable<Consent['provision']>['actor']>[number]>(item.provision?.actor)[0];
          const hprNumber = actor?.reference?.identifier?.value;
          if (typeof hprNumber === 'string')
            choices.blockedPractitioners.push({
              id: item.id,
              hprNumber,
              ...(typeof actor?.reference?.display === 'string' ? { name: actor.reference.display } : {}),
              since,
            });
          break;
        }
        case 'document-block':
          for (const data of list<{ reference?: { reference?: unknown } }>(item.provision?.data)) {
            const reference = data.reference?.reference;
            if (typeof reference === 'string' && reference.startsWith('DocumentReference/'))
              choices.blockedDocuments.push({ documentId: reference.slice('DocumentReference/'.length), since });
          }
          break;
        case 'proxy': {
          const actor = list<NonNullable<NonNullable<Consent['provision']>['actor']>[number]>(item.provision?.actor)[0];
          const validUntil = item.provision?.period?.end;
          if (validUntil && Date.parse(validUntil) < now.getTime()) break;
          const roleCode = list<{ code?: unknown }>(actor?.role?.coding)[0]?.code;
          const relationship =
            Object.entries(PROXY_RELATIONSHIPS).find(([, r]) => r.code === roleCode)?.[0] ?? 'unknown';
          choices.proxies.push({
            id: item.id,
            proxyNin: String(actor?.reference?.identifier?.value ?? ''),
            ...(typeof actor?.reference?.display === 'string' ? { proxyName: actor.reference.display } : {}),
            relationship,
            since,
            ...(validUntil ? { validUntil } : {}),
          });
          break;
        }
        default:
          break;
      }
    }
    return choices;
  }

  /** Turns a yes/no choice (reservation, restriction, blocked lab results) on or off. */
  async setSwitch(
    sandbox: string,
    nin: string,
    patientId: string | undefined,
    kind: 'kjernejournal-reservation' | 'kjernejournal-restriction' | 'lab-results-block',
    on: boolean,
    now: string,
  ): Promise<void> {
    await this.store.inTransaction(async (store) => {
      const choices = new PrivacyChoiceStore(store);
      const active = await choices.activeConsents(sandbox, nin, kind);
      if (on && active.length === 0)
        await store.create(sandbox, consent(kind, nin, patientId, now, { type: 'deny' }), now);
      if (!on)
        for (const item of active) await store.update(sandbox, { ...item, status: 'inactive' }, now, versionOf(item));
    });
  }

  /** Blocks one of the citizen's documents: the DocumentReference becomes NORS and a Consent records why. */
  async blockDocument(sandbox: string, nin: string, patientId: string, documentId: string, now: string): Promise<void> {
    await this.store.inTransaction(async (store) => {
      const document = await ownDocument(store, sandbox, patientId, documentId);
      const labels = list<{ coding?: { system?: string; code?: string }[] }>(document.securityLabel);
      if (hasSecurityLabel(document, SECURITY_LABEL_SYSTEM, NORS_LABEL)) return;
      const kept = labels.filter(
        (l) => !hasSecurityLabel({ resourceType: 'DocumentReference', securityLabel: [l] }, SECURITY_LABEL_SYSTEM, 'N'),
      );
      await store.update(
        sandbox,
        {
          ...document,
          securityLabel: [
            ...kept,
            { coding: [{ system: SECURITY_LABEL_SYSTEM, code: NORS_LABEL, display: 'Sperret' }] },
          ],
        },
        now,
        versionOf(document),
      );
      await store.create(
        sandbox,
        consent('document-block', nin, patientId, now, {
          type: 'deny',
          data: [{ meaning: 'instance', reference: { reference: `DocumentReference/${documentId}` } }],
        }),
        now,
      );
    });
  }

  async unblockDocument(
    sandbox: string,
    nin: string,
    patientId: string,
    documentId: string,
    now: string,
  ): Promise<void> {
    await this.store.inTransaction(async (store) => {
      const document = await ownDocument(store, sandbox, patientId, documentId);
      const blocks = (await new PrivacyChoiceStore(store).activeConsents(sandbox, nin, 'document-block')).filter((c) =>
        list<{ reference?: { reference?: unknown } }>(c.provision?.data).some(
          (d) => d.reference?.reference === `DocumentReference/${documentId}`,
        ),
      );
      if (blocks.length === 0)
        throw notFound('NAVET-CITIZEN-NOT-BLOCKED', `Document ${documentId} is not blocked by you`);
      for (const block of blocks) await store.update(sandbox, { ...block, status: 'inactive' }, now, versionOf(block));
      const labels = list<{ coding?: { system?: string; code?: string }[] }>(document.securityLabel).filter(
        (l) =>
          !hasSecurityLabel(
            { resourceType: 'DocumentReference', securityLabel: [l] },
            SECURITY_LABEL_SYSTEM,
            NORS_LABEL,
          ),
      );
      const hasConfidentiality = labels.some(
        (l) => Array.isArray(l.coding) && l.coding.some((c) => c?.system === SECURITY_LABEL_SYSTEM),
      );
      await store.update(
        sandbox,
        {
          ...document,
          securityLabel: hasConfidentiality
            ? labels
            : [...labels, { coding: [{ system: SECURITY_LABEL_SYSTEM, code: 'N', display: 'Normal' }] }],
        },
        now,
        versionOf(document),
      );
    });
  }

  async addProxy(
    sandbox: string,
    nin: string,
    patientId: string | undefined,
    proxy: { nin: string; name?: string; relationship: string; validUntil?: string },
    now: string,
  ): Promise<string> {
    const role = ownValue(PROXY_RELATIONSHIPS, proxy.relationship);
    if (!role)
      throw badRequest(
        'NAVET-CITIZEN-PROXY',
        `relationship must be one of ${Object.keys(PROXY_RELATIONSHIPS).join(', ')}`,
        ['relationship'],
      );
    const created = await this.store.create(
      sandbox,
      consent('proxy', nin, patientId, now, {
        type: 'permit',
        ...(proxy.validUntil ? { period: { start: now, end: proxy.validUntil } } : {}),
        actor: [
          {
            role: {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: role.code, display: role.display },
              ],
            },
            reference: {
              identifier: { system: SYSTEMS.fnr, value: proxy.nin },
              ...(proxy.name ? { display: proxy.name } : {}),
            },
          },
        ],
      }),
      now,
    );
    return created.id as string;
  }

  /** Blocks one health worker, by HPR number, from the citizen's Kjernejournal. */
  async blockPractitioner(
    sandbox: string,
    nin: string,
    patientId: string | undefined,
    practitioner: { hprNumber: string; name?: string },
    now: string,
  ): Promise<string> {
    if (!/^\d{4,9}$/.test(practitioner.hprNumber))
      throw badRequest('NAVET-CITIZEN-HPR', 'hprNumber must be an HPR number: 4 to 9 digits', ['hprNumber']);
    return this.store.inTransaction(async (store) => {
      const existing = (
        await new PrivacyChoiceStore(store).read(sandbox, nin, new Date(now))
      ).blockedPractitioners.find((p) => p.hprNumber === practitioner.hprNumber);
      if (existing) return existing.id;
      const created = await store.create(
        sandbox,
        consent('kjernejournal-blocked-practitioner', nin, patientId, now, {
          type: 'deny',
          actor: [
            {
              role: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                    code: 'PRF',
                    display: 'performer',
                  },
                ],
              },
              reference: {
                identifier: { system: SYSTEMS.hpr, value: practitioner.hprNumber },
                ...(practitioner.name ? { display: practitioner.name } : {}),
              },
            },
          ],
        }),
        now,
      );
      return created.id as string;
    });
  }

  async unblockPractitioner(sandbox: string, nin: string, consentId: string, now: string): Promise<void> {
    const item = (await this.activeConsents(sandbox, nin, 'kjernejournal-blocked-practitioner')).find(
      (c) => c.id === consentId,
    );
    if (!item)
      throw notFound('NAVET-CITIZEN-BLOCK-NOT-FOUND', `You have blocked no health worker under id ${consentId}`);
    await this.store.update(sandbox, { ...item, status: 'inactive' }, now, versionOf(item));
  }

  async removeProxy(sandbox: string, nin: string, consentId: string, now: string): Promise<void> {
    const proxies = await this.activeConsents(sandbox, nin, 'proxy');
    const item = proxies.find((c) => c.id === consentId);
    if (!item) throw notFound('NAVET-CITIZEN-PROXY-NOT-FOUND', `You have no proxy note with id ${consentId}`);
    await this.store.update(sandbox, { ...item, status: 'inactive' }, now, versionOf(item));
  }
}

/** The version read, so that a change made meanwhile by someone else is refused (412), not overwritten. */
function versionOf(resource: FhirResource): number {
  return Number(resource.meta?.versionId);
}

/** The citizen's own DocumentReference; another person's document is "not found", never "forbidden". */
async function ownDocument(
  store: ResourceStore,
  sandbox: string,
  patientId: string,
  documentId: string,
): Promise<FhirResource> {
  const document = isValidId(documentId) ? await store.find(sandbox, 'DocumentReference', documentId) : undefined;
  const subject = (document?.subject as { reference?: string } | undefined)?.reference;
  if (!document || subject !== `Patient/${patientId}`)
    throw notFound('NAVET-CITIZEN-DOCUMENT-NOT-FOUND', `You have no document with id ${documentId}`);
  return document;
}

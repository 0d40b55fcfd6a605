import type { Request } from 'express';
import { badRequest, forbidden } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { FhirResource } from '../../fhir/types';
import { SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import { privacyChoicesForCare } from '../../citizen/privacy-choices';
import { hasSecurityLabel } from '../../fhir/security-labels';
import { ownValue } from '../../own-value';
import type { AccessContext } from '../../trust/access-context';
import { nhnHeader } from '../../trust/guard';
import { ACCESS_BASES, DOCUMENT_SCOPES, NORS_LABEL, SECURITY_LABEL_SYSTEM } from '../../codes/pjd-codes';
import type { PjdSettings } from './pjd-settings';

/** What every consumer call of PJD checks before it looks at documents: headers, scopes, the allow-list. */
export async function assertConsumerAccess(
  req: Request,
  access: AccessContext,
  settings: PjdSettings,
  kind: 'list' | 'read',
): Promise<string> {
  if (!access.sourceSystem)
    throw badRequest(
      'NAVET-PJD-SOURCE-SYSTEM',
      'The nhn-source-system header is required: the name of the calling system',
      ['nhn-source-system'],
    );
  let granted: string = DOCUMENT_SCOPES.readDocument;
  if (kind === 'list') {
    const listScopes = DOCUMENT_SCOPES.list.filter((s) => access.scopes.includes(s));
    if (listScopes.length === 2)
      throw forbidden(
        'NAVET-PJD-SCOPES-EXCLUSIVE',
        `The token holds both ${listScopes.join(' and ')}; they exclude each other: ask for one`,
      );
    if (listScopes.length === 0)
      throw forbidden('NAVET-PJD-SCOPE', `Finding documents needs one of ${DOCUMENT_SCOPES.list.join(', ')}`);
    granted = listScopes[0];
  } else if (!access.scopes.includes(DOCUMENT_SCOPES.readDocument)) {
    throw forbidden('NAVET-PJD-SCOPE', `Retrieving a document needs the scope ${DOCUMENT_SCOPES.readDocument}`);
  }
  const basis = nhnHeader(req, 'access-basis');
  if (basis && !ACCESS_BASES.includes(basis.toUpperCase()))
    throw badRequest(
      'NAVET-PJD-ACCESS-BASIS',
      `nhn-access-basis '${basis}' is not one of ${ACCESS_BASES.join(', ')} (any case)`,
      ['nhn-access-basis'],
    );
  if (access.scopes.includes(DOCUMENT_SCOPES.kjernejournalforskriften) && !basis) {
    throw badRequest(
      'NAVET-PJD-ACCESS-BASIS',
      `Under ${DOCUMENT_SCOPES.kjernejournalforskriften} the nhn-access-basis header is required: one of ${ACCESS_BASES.join(', ')}`,
      ['nhn-access-basis'],
    );
  }
  const orgnr = access.organisation?.legalEntity.id ?? access.client.orgnrParent;
  const allowed = ownValue(settings.allowedAuthorizations, orgnr);
  if (allowed) {
    const code = access.practitioner?.authorization?.code;
    if (!code || !allowed.includes(code)) {
      throw forbidden(
        'NAVET-PJD-PERSONNEL-NOT-ALLOWED',
        `Organisation ${orgnr} lets only ${allowed.join(', ')} see documents; the practitioner's authorisation is ${code ?? 'not given'}`,
      );
    }
  }
  return granted;
}

export async function findPatient(
  store: ResourceStore,
  sandbox: string,
  nin: string,
): Promise<FhirResource | undefined> {
  return (
    await store.cachedReads().search(sandbox, {
      ...parseSearchRequest('Patient', [['identifier', `${SYSTEMS.fnr}|${nin},${SYSTEMS.dnr}|${nin}`]]),
      count: 1,
      totalNone: true,
    })
  ).matches[0];
}

/**
 * Whether the patient has blocked a document: its NORS label (set when the citizen blocks it), or a
 * document-block Consent a tester stored directly.
 */
export function isBlocked(document: FhirResource, blockedByConsent: ReadonlySet<string> = new Set()): boolean {
  return hasSecurityLabel(document, SECURITY_LABEL_SYSTEM, NORS_LABEL) || blockedByConsent.has(String(document.id));
}

/** The ids of the documents the patient's Consents block. */
export async function documentsBlockedByConsent(
  store: ResourceStore,
  sandbox: string,
  nin: string,
  now: Date,
): Promise<Set<string>> {
  const choices = await privacyChoicesForCare(store, sandbox, nin, now);
  return new Set(choices.blockedDocuments.map((d) => d.documentId));
}

/** The fødselsnummer of a document's patient: from subject.identifier, else from the Patient it references. */
export async function patientNinOfDocument(
  store: ResourceStore,
  sandbox: string,
  document: FhirResource,
): Promise<string | undefined> {
  const subject = document.subject as
    { reference?: string; identifier?: { system?: string; value?: string } } | undefined;
  const nationalIds: string[] = [SYSTEMS.fnr, SYSTEMS.dnr];
  if (subject?.identifier && nationalIds.includes(subject.identifier.system ?? '')) return subject.identifier.value;
  const patientId = subject?.reference?.match(/^Patient\/([^/]+)$/)?.[1];
  const patient = patientId ? await store.find(sandbox, 'Patient', patientId) : undefined;
  return ((patient?.identifier ?? []) as { system?: string; value?: string }[]).find((i) =>
    nationalIds.includes(i.system ?? ''),
  )?.value;
}

/** The document as served: its ITI-68 link made absolute below this sandbox's PJD base. */
export function servedDocument(document: FhirResource, pjdBase: string): FhirResource {
  const content = (document.content ?? []) as { attachment?: { url?: string } }[];
  return {
    ...document,
    content: content.map((c) =>
      c.attachment?.url && !/^https?:/.test(c.attachment.url)
        ? { ...c, attachment: { ...c.attachment, url: `${pjdBase}/${c.attachment.url}` } }
        : c,
    ),
  };
}

import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, conflict, FhirError, type OutcomeIssue } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { DocumentReference } from 'fhir/r4';
import { asJson, type Bundle, type FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { SYSTEMS } from '../../codes/code-systems';
import type { AccessContext } from '../../trust/access-context';
import { findPatient, isBlocked } from './document-access';
import { buildDocumentReference, type DocumentSource, sha1Base64 } from './document-reference';
import {
  CATEGORIES,
  CONTENT_TYPES,
  DOCUMENT_CLASS_SYSTEM,
  FACILITY_TYPE_SYSTEM,
  FORMATS,
  HL7_CONFIDENTIALITY_SYSTEM,
  navetOid,
  NORS_LABEL,
  PRACTICE_SETTING_SYSTEMS,
  SECURITY_LABEL_SYSTEM,
  SECURITY_LABELS,
} from '../../codes/pjd-codes';
import type { PjdContext } from './pjd-context';
import { ownValue } from '../../own-value';

/**
 * ITI-65 Provide Document Bundle (sandbox only: the real service does not let EPR vendors publish):
 * `POST <pjd>/R4/fhir` with a transaction Bundle of a List (the submission set), DocumentReference(s) and
 * their Binary content. Navet checks the metadata codes, finds the patient (literal reference, FNR
 * identifier, or both — then they must agree), computes size and hash itself (given ones must agree),
 * names the publishing organisation and practitioner as the author from the token, and stores all of it
 * in one transaction. `relatesTo` "replaces" makes the old document `superseded`.
 */
export const ITI_65: Interaction = {
  service: 'pjd',
  code: 'ITI-65',
  display: 'Provide Document Bundle',
  action: 'C',
  seen: 'Nytt dokument publisert',
};

type Json = Record<string, unknown>;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** XDS unique ids: OID^extension and the like; no characters that FHIR search or the ITI-68 link treat specially. */
const UNIQUE_ID = /^[A-Za-z0-9._:^-]{1,128}$/;
interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const codings = (value: unknown): Coding[] =>
  isObject(value) ? (asArray(value.coding).filter(isObject) as Coding[]) : [];

/** The patient a Provide Bundle names (for logging a rejected one): the first FNR in a DocumentReference's subject. */
export function providedPatientNin(body: unknown): string | undefined {
  const entries = (body as { entry?: { resource?: Json }[] } | undefined)?.entry ?? [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    const identifier = (entry?.resource?.subject as Json | undefined)?.identifier as { value?: unknown } | undefined;
    if (entry?.resource?.resourceType === 'DocumentReference' && typeof identifier?.value === 'string')
      return identifier.value;
  }
  return undefined;
}

interface Prepared {
  input: Parameters<typeof buildDocumentReference>[0];
  /** The Bundle entry of its Binary, when the content came as one. */
  binaryIndex?: number;
  replaces?: DocumentReference;
}

function looksLike(contentType: string, bytes: Buffer): string | undefined {
  if (contentType === 'application/pdf')
    return bytes.subarray(0, 5).toString('latin1') === '%PDF-'
      ? undefined
      : 'is not a PDF (it does not start with %PDF-)';
  const text = bytes
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return text.startsWith('<') ? undefined : 'is not XML (it does not start with <)';
}

export async function provideDocumentBundle(
  context: PjdContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const bundle = req.body as Json | undefined;
  if (!bundle || bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction' || !Array.isArray(bundle.entry)) {
    throw badRequest(
      'NAVET-PJD-BUNDLE',
      'Send a FHIR Bundle of type "transaction" with a List (submission set), the DocumentReference(s) and their Binary content',
      ['Bundle'],
    );
  }
  const entries = (bundle.entry as unknown[]).map((e) => (isObject(e) ? e : {})) as {
    fullUrl?: string;
    resource?: Json;
  }[];
  const issues: OutcomeIssue[] = [];
  const issue = (expression: string, text: string, code = 'invalid') =>
    issues.push({ severity: 'error', code, navetCode: 'NAVET-PJD-METADATA', text, expression: [expression] });
  const binaries = new Map<string, { resource: Json; index: number }>();
  entries.forEach((entry, index) => {
    if (entry?.resource?.resourceType === 'Binary') {
      if (entry.fullUrl) binaries.set(entry.fullUrl, { resource: entry.resource, index });
      if (typeof entry.resource.id === 'string')
        binaries.set(`Binary/${entry.resource.id}`, { resource: entry.resource, index });
    }
  });
  const listIndex = entries.findIndex((e) => e?.resource?.resourceType === 'List');
  if (listIndex < 0) issue('Bundle.entry', 'The Bundle needs a List: the submission set of ITI-65');
  const documentIndexes = entries
    .map((e, i) => (e?.resource?.resourceType === 'DocumentReference' ? i : -1))
    .filter((i) => i >= 0);
  if (documentIndexes.length === 0) issue('Bundle.entry', 'The Bundle holds no DocumentReference');
  entries.forEach((e, i) => {
    if (!['List', 'DocumentReference', 'Binary'].includes(String(e?.resource?.resourceType)))
      issue(
        `Bundle.entry[${i}].resource`,
        `ITI-65 takes List, DocumentReference and Binary; entry ${i} is ${String(e?.resource?.resourceType)}`,
      );
  });

  const institution = access.organisation?.pointOfCare ?? {
    id: access.client.orgnrChild ?? access.client.orgnrParent ?? '',
    system: SYSTEMS.orgnr,
  };
  const institutionResource = (
    await context.store.search(sandbox.name, {
      ...parseSearchRequest('Organization', [['identifier', institution.id]]),
      count: 1,
      totalNone: true,
    })
  ).matches[0];
  const nameParts = (access.practitioner?.name ?? '').split(' ').filter(Boolean);
  const family = nameParts.pop() ?? '';
  const source: DocumentSource = {
    institution: {
      orgnr: institution.id,
      name: String(institutionResource?.name ?? institution.name ?? access.client.name),
    },
    ...(access.organisation?.department
      ? {
          department: {
            resh: access.organisation.department.id,
            name: access.organisation.department.name ?? `Avdeling ${access.organisation.department.id}`,
          },
        }
      : {}),
    ...(access.practitioner?.hprNumber
      ? { author: { hpr: access.practitioner.hprNumber, family, given: nameParts } }
      : {}),
  };

  const prepared: Prepared[] = [];
  const inThisBundle = new Set<string>();
  for (const index of documentIndexes) {
    const at = `Bundle.entry[${index}].resource`;
    const doc = entries[index].resource as Json;
    // the patient: literal reference, identifier, or both (then they must agree)
    const subject = (isObject(doc.subject) ? doc.subject : {}) as {
      reference?: string;
      identifier?: { system?: string; value?: string };
    };
    const byReference = str(subject.reference)?.match(/^Patient\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
    if (subject.reference !== undefined && !byReference)
      issue(
        `${at}.subject.reference`,
        `subject.reference must be Patient/<id>; got ${JSON.stringify(subject.reference)}`,
      );
    const identifier = isObject(subject.identifier)
      ? { system: str(subject.identifier.system), value: str(subject.identifier.value) }
      : undefined;
    if (
      subject.identifier !== undefined &&
      (!identifier ||
        ![SYSTEMS.fnr, SYSTEMS.dnr].includes(identifier.system as typeof SYSTEMS.fnr) ||
        !/^\d{11}$/.test(identifier.value ?? ''))
    ) {
      issue(
        `${at}.subject.identifier`,
        `subject.identifier must be a fødselsnummer (${SYSTEMS.fnr}) or D-number (${SYSTEMS.dnr}) of 11 digits`,
      );
    }
    if (!subject.reference && !identifier)
      issue(`${at}.subject`, "subject is required: Patient/<id>, or the patient's identifier (FNR), or both");
    const patientByReference = byReference ? await context.store.find(sandbox.name, 'Patient', byReference) : undefined;
    const patientByIdentifier = identifier?.value
      ? await findPatient(context.store, sandbox.name, identifier.value)
      : undefined;
    if (byReference && !patientByReference)
      issue(`${at}.subject.reference`, `Patient/${byReference} does not exist in this sandbox`, 'not-found');
    if (identifier?.value && /^\d{11}$/.test(identifier.value) && !patientByIdentifier)
      issue(`${at}.subject.identifier`, `No patient with number ${identifier.value} in this sandbox`, 'not-found');
    if (patientByReference && patientByIdentifier && patientByReference.id !== patientByIdentifier.id) {
      issue(
        `${at}.subject`,
        `subject.reference (Patient/${patientByReference.id}) and subject.identifier (${identifier?.value}) name different patients`,
      );
    }
    const patient = patientByReference ?? patientByIdentifier;
    const nin = (asArray(patient?.identifier).filter(isObject) as { system?: string; value?: string }[]).find(
      (i) => i.system === SYSTEMS.fnr || i.system === SYSTEMS.dnr,
    )?.value;
    if (patient && !nin)
      issue(
        `${at}.subject`,
        `Patient/${patient.id} has no fødselsnummer or D-number; a shared document needs one`,
        'business-rule',
      );

    // metadata codes
    const category = codings(asArray(doc.category)[0]).find((c) => c.system === DOCUMENT_CLASS_SYSTEM)?.code;
    if (!ownValue(CATEGORIES, category))
      issue(
        `${at}.category`,
        `category must be a Volven 9602 class (${DOCUMENT_CLASS_SYSTEM}): one of ${Object.keys(CATEGORIES).join(', ')}; got ${category ?? 'none'}`,
      );
    const type = codings(doc.type).find((c) => c.system === DOCUMENT_CLASS_SYSTEM)?.code;
    if (!type || !/^[A-Z]\d{2}-2$/.test(type))
      issue(
        `${at}.type`,
        `type must be a Volven 9602 level-2 code (${DOCUMENT_CLASS_SYSTEM}) such as A03-2; got ${type ?? 'none'}`,
      );
    else if (category && type[0] !== category[0])
      issue(
        `${at}.type`,
        `type ${type} does not belong to category ${category}: a level-2 code starts with its class's letter`,
      );
    const labels = asArray(doc.securityLabel).flatMap(codings);
    for (const label of labels) {
      const known =
        (label.system === SECURITY_LABEL_SYSTEM && SECURITY_LABELS.includes(label.code ?? '')) ||
        (label.system === HL7_CONFIDENTIALITY_SYSTEM && ['U', 'L', 'M', 'N', 'R', 'V'].includes(label.code ?? ''));
      if (!known)
        issue(
          `${at}.securityLabel`,
          `securityLabel ${label.system}|${label.code} is not a Volven 9603 code (${SECURITY_LABELS.join(', ')}) or an HL7 confidentiality code`,
        );
    }
    const content = asArray(doc.content).filter(isObject)[0];
    const attachment = (isObject(content?.attachment) ? content.attachment : {}) as {
      url?: string;
      contentType?: string;
      size?: number;
      hash?: string;
      title?: string;
      data?: string;
      creation?: string;
    };
    const format = codings({ coding: content?.format ? [content.format] : [] })[0]?.code;
    if (!ownValue(FORMATS, format))
      issue(
        `${at}.content[0].format`,
        `content.format must be one of ${Object.keys(FORMATS).join(', ')}; got ${format ?? 'none'}`,
      );
    const binary = attachment.url ? binaries.get(attachment.url) : undefined;
    if (!attachment.data && !binary)
      issue(
        `${at}.content[0].attachment.url`,
        `content.attachment.url must be the fullUrl of a Binary in the Bundle (or send attachment.data); got ${attachment.url ?? 'none'}`,
      );
    const data = attachment.data ?? (binary?.resource.data as string | undefined);
    const contentType = String(binary?.resource.contentType ?? attachment.contentType ?? '');
    if (!CONTENT_TYPES.includes(contentType))
      issue(
        `${at}.content[0].attachment.contentType`,
        `The document must be ${CONTENT_TYPES.join(', ')}; got '${contentType || 'none'}'`,
      );
    if (attachment.contentType && binary && attachment.contentType !== binary.resource.contentType)
      issue(
        `${at}.content[0].attachment.contentType`,
        `attachment.contentType ${attachment.contentType} disagrees with the Binary's ${String(binary.resource.contentType)}`,
      );
    if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length === 0) {
      issue(
        binary ? `Bundle.entry[${binary.index}].resource.data` : `${at}.content[0].attachment.data`,
        'The document content must be base64 data',
      );
      continue;
    }
    const bytes = Buffer.from(data, 'base64');
    const wrong = CONTENT_TYPES.includes(contentType) ? looksLike(contentType, bytes) : undefined;
    if (wrong) issue(`${at}.content[0].attachment`, `The content ${wrong}, but its content type is ${contentType}`);
    if (attachment.size !== undefined && attachment.size !== bytes.length)
      issue(
        `${at}.content[0].attachment.size`,
        `attachment.size is ${attachment.size}, but the content is ${bytes.length} bytes; leave size out and Navet computes it`,
      );
    if (attachment.hash !== undefined && attachment.hash !== sha1Base64(bytes))
      issue(
        `${at}.content[0].attachment.hash`,
        `attachment.hash does not match the content (SHA-1, base64, is ${sha1Base64(bytes)}); leave hash out and Navet computes it`,
      );
    const date = typeof doc.date === 'string' ? doc.date : sandbox.clock.now().toISOString();
    if (!INSTANT.test(date) || Number.isNaN(Date.parse(date)))
      issue(`${at}.date`, `date must be an instant such as 2026-11-23T10:00:00Z; got '${date}'`);
    const contextElement = isObject(doc.context) ? doc.context : {};
    const facility = codings(contextElement.facilityType)[0];
    if (facility && facility.system !== FACILITY_TYPE_SYSTEM)
      issue(`${at}.context.facilityType`, `facilityType must be from ${FACILITY_TYPE_SYSTEM}; got ${facility.system}`);
    const setting = codings(contextElement.practiceSetting)[0];
    if (setting && !PRACTICE_SETTING_SYSTEMS.includes(setting.system ?? ''))
      issue(
        `${at}.context.practiceSetting`,
        `practiceSetting must be from Volven ${PRACTICE_SETTING_SYSTEMS.map((s) => s.split('.').pop()).join(', ')}; got ${setting.system}`,
      );

    // replaces
    const replaced = (
      asArray(doc.relatesTo).filter(isObject) as { code?: string; target?: { reference?: string } }[]
    ).find((r) => r.code === 'replaces');
    let replaces: DocumentReference | undefined;
    if (replaced) {
      const targetId = str(replaced.target?.reference)?.match(/^DocumentReference\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
      replaces = targetId
        ? await context.store.find<DocumentReference>(sandbox.name, 'DocumentReference', targetId)
        : undefined;
      if (!replaces)
        issue(
          `${at}.relatesTo`,
          `relatesTo replaces ${replaced.target?.reference ?? '(no target)'}, which does not exist`,
          'not-found',
        );
      else if (replaces.status !== 'current')
        issue(
          `${at}.relatesTo`,
          `${replaced.target?.reference} is ${String(replaces.status)}; only a current document can be replaced`,
          'business-rule',
        );
      else if (replaces.subject?.reference !== `Patient/${patient?.id}`)
        issue(`${at}.relatesTo`, `${replaced.target?.reference} belongs to another patient`, 'business-rule');
    }
    const given = str((doc.masterIdentifier as { value?: unknown } | undefined)?.value);
    const id = randomUUID();
    if (given !== undefined && !UNIQUE_ID.test(given))
      issue(
        `${at}.masterIdentifier.value`,
        'masterIdentifier.value must be 1–128 letters, digits and . - _ : ^ (e.g. 2.16.578.1.34.1000.1^12345)',
      );
    const documentUniqueId =
      given && UNIQUE_ID.test(given)
        ? given.includes('^')
          ? given
          : `${navetOid(`source:${source.institution.orgnr}`)}^${given}`
        : undefined;
    if (documentUniqueId && inThisBundle.has(documentUniqueId))
      issue(
        `${at}.masterIdentifier`,
        `Two documents in the Bundle have masterIdentifier ${documentUniqueId}`,
        'duplicate',
      );
    if (documentUniqueId) inThisBundle.add(documentUniqueId);
    if (documentUniqueId) {
      const taken = await context.store.search(sandbox.name, {
        ...parseSearchRequest('DocumentReference', [['identifier', documentUniqueId]]),
        count: 1,
        totalNone: true,
      });
      if (taken.matches.length > 0)
        issue(
          `${at}.masterIdentifier`,
          `A document with masterIdentifier ${documentUniqueId} exists already; use relatesTo "replaces" to publish a new version`,
          'duplicate',
        );
    }
    if (!patient || !nin || !category || !type) continue;
    prepared.push({
      binaryIndex: binary?.index,
      replaces,
      input: {
        id,
        patient: { id: patient.id as string, nin },
        category,
        type,
        title: str(attachment.title) ?? codings(doc.type)[0]?.display ?? type,
        date,
        source,
        contentType,
        format: format ?? '',
        bytes,
        documentUniqueId,
        // a replacement of a document the patient has blocked stays blocked
        securityLabel:
          replaces && isBlocked(asJson(replaces))
            ? NORS_LABEL
            : labels.find((l) => l.system === SECURITY_LABEL_SYSTEM)?.code,
        ...(facility?.code
          ? { facilityType: { code: facility.code, display: facility.display ?? facility.code } }
          : {}),
        ...(setting?.code
          ? {
              practiceSetting: {
                system: setting.system as string,
                code: setting.code,
                ...(setting.display ? { display: setting.display } : {}),
              },
            }
          : {}),
        ...(replaces ? { replaces: replaces.id as string } : {}),
      },
    });
  }
  if (issues.length > 0) {
    const status = issues.some((i) => i.code === 'duplicate')
      ? 409
      : issues.every((i) => i.code === 'not-found')
        ? 404
        : issues.some((i) => i.code === 'business-rule')
          ? 422
          : 400;
    throw new FhirError(status, issues);
  }

  const now = sandbox.clock.now().toISOString();
  const stored = await context.store.inTransaction(async (store) => {
    const documents: FhirResource[] = [];
    const binaryIds: string[] = [];
    for (const item of prepared) {
      if (item.replaces) {
        const current = await store.find<DocumentReference>(
          sandbox.name,
          'DocumentReference',
          item.replaces.id as string,
        );
        if (current?.status !== 'current')
          throw conflict(
            'NAVET-PJD-REPLACED',
            `${item.replaces.id} was replaced by another publication at the same moment`,
          );
        await store.update(sandbox.name, { ...current, status: 'superseded' }, now, Number(current.meta?.versionId));
      }
      const { documentReference, binary } = buildDocumentReference(item.input);
      const uniqueId = documentReference.masterIdentifier.value;
      const taken = await store.search(sandbox.name, {
        ...parseSearchRequest('DocumentReference', [['identifier', uniqueId]]),
        count: 1,
        totalNone: true,
      });
      if (taken.matches.length > 0)
        throw conflict(
          'NAVET-PJD-DUPLICATE',
          `A document with masterIdentifier ${uniqueId} was published at the same moment`,
        );
      // content already stored (the same bytes published before) is kept as it is
      if (!(await store.find(sandbox.name, 'Binary', binary.id as string)))
        await store.create(sandbox.name, binary, now, binary.id as string);
      binaryIds.push(binary.id);
      documents.push(await store.create(sandbox.name, documentReference, now, item.input.id));
    }
    const list = entries[listIndex].resource as Json;
    const submissionSet = await store.create(
      sandbox.name,
      {
        resourceType: 'List',
        status: 'current',
        mode: 'working',
        code: {
          coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }],
        },
        ...(typeof list.title === 'string' ? { title: list.title } : {}),
        subject: documents[0].subject as Json,
        date: now,
        source: { display: source.institution.name },
        entry: documents.map((d) => ({ item: { reference: `DocumentReference/${d.id}` } })),
      },
      now,
    );
    return { documents, binaryIds, submissionSet };
  });
  const binaryOwner = new Map(prepared.map((item, i) => [item.binaryIndex, stored.binaryIds[i]]));
  const response: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: entries.map((entry, index) => {
      const resource = entry?.resource as Json;
      const done =
        resource?.resourceType === 'DocumentReference'
          ? stored.documents[documentIndexes.indexOf(index)]
          : resource?.resourceType === 'List'
            ? stored.submissionSet
            : undefined;
      const location = done
        ? `${context.pjdBase}/R4/fhir/${done.resourceType}/${done.id}/_history/1`
        : `${context.pjdBase}/R4/fhir/Binary/${binaryOwner.get(index) ?? ''}`;
      return { response: { status: '201 Created', location } };
    }),
  };
  const byPatient = new Map<string, { nin: string; id: string; resources: string[] }>();
  for (const [i, item] of prepared.entries()) {
    const entry = byPatient.get(item.input.patient.nin) ?? {
      nin: item.input.patient.nin,
      id: item.input.patient.id,
      resources: [],
    };
    entry.resources.push(`DocumentReference/${stored.documents[i].id}`, `Binary/${stored.binaryIds[i]}`);
    byPatient.set(item.input.patient.nin, entry);
  }
  return {
    patients: [...byPatient.values()],
    send: (r: Response) => sendFhir(req, r, 200, response),
  };
}

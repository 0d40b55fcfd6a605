import { createHash } from 'node:crypto';
import type { Binary, DocumentReference, Organization, Practitioner } from 'fhir/r4';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import { ownValue } from '../../own-value';
import {
  CATEGORIES,
  DOCUMENT_CLASS_SYSTEM,
  FACILITY_TYPE_SYSTEM,
  FORMAT_SYSTEM,
  FORMATS,
  KNOWN_TYPES,
  navetOid,
  ORGNR_SYSTEM,
  RESH_SYSTEM,
  SECURITY_LABEL_SYSTEM,
} from '../../codes/pjd-codes';

/**
 * DocumentReferences the way PJD's consumers see them: 9602 category and type, 9603 security label,
 * contained author Organization(s) — the institution typed with the bare OID 2.16.578.1.12.4.1.4.101 and
 * the department with …4.102, as the demo client tells them apart — and Practitioner, facility type,
 * practice setting, format, masterIdentifier "<source id>^<local id>", and the attachment's size, hash
 * (SHA-1, base64) and ITI-68 link. The Binary with the bytes is named by that hash (one copy per content).
 */
export const MHD_PROFILE =
  'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.DocumentReference';

export interface DocumentSource {
  institution: { orgnr: string; name: string };
  department?: { resh: string; name: string };
  author?: { hpr: string; given: string[]; family: string };
}

export interface DocumentInput {
  id: string;
  patient: { id: string; nin: string };
  category: string;
  type: string;
  title: string;
  /** When the document was made (ISO instant). */
  date: string;
  source: DocumentSource;
  contentType: string;
  format: string;
  bytes: Uint8Array;
  securityLabel?: string;
  facilityType?: { code: string; display: string };
  practiceSetting?: { system: string; code: string; display?: string };
  /** The source system's own id of the document (after the ^ of masterIdentifier). */
  localId?: string;
  /** The whole masterIdentifier, when the source gave one of the form root^extension. */
  documentUniqueId?: string;
  replaces?: string;
}

/** The repository and community that serve a source's documents, as ITI-68 names them. */
export function repositoryOf(orgnr: string): { repositoryUniqueId: string; homeCommunityId: string } {
  return {
    repositoryUniqueId: navetOid(`repository:${orgnr}`),
    homeCommunityId: `urn:oid:${navetOid(`community:${orgnr}`)}`,
  };
}

/** The ITI-68 link below the PJD base (made absolute when the document is served). */
export function retrieveLink(documentUniqueId: string, orgnr: string): string {
  const { repositoryUniqueId, homeCommunityId } = repositoryOf(orgnr);
  return `mhd/document?${new URLSearchParams({ documentUniqueId, repositoryUniqueId, homeCommunityId }).toString()}`;
}

export function sha1Base64(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64');
}

/** Content is stored once per content: the Binary's id is its SHA-1, as attachment.hash gives it. */
export function binaryIdOfHash(hashBase64: string): string {
  return `sha1-${Buffer.from(hashBase64, 'base64').toString('hex')}`;
}

export function buildDocumentReference(input: DocumentInput): {
  documentReference: DocumentReference & { masterIdentifier: { value: string } };
  binary: Binary & { id: string };
} {
  const { source } = input;
  const documentUniqueId =
    input.documentUniqueId ?? `${navetOid(`source:${source.institution.orgnr}`)}^${input.localId ?? input.id}`;
  const contained: (Organization | Practitioner)[] = [
    {
      resourceType: 'Organization',
      id: 'institution',
      identifier: [{ system: ORGNR_SYSTEM, value: source.institution.orgnr }],
      type: [{ coding: [{ system: ORGNR_SYSTEM.replace('urn:oid:', ''), code: source.institution.orgnr }] }],
      name: source.institution.name,
    },
    ...(source.department
      ? [
          {
            resourceType: 'Organization' as const,
            id: 'department',
            identifier: [{ system: RESH_SYSTEM, value: source.department.resh }],
            type: [{ coding: [{ system: RESH_SYSTEM.replace('urn:oid:', ''), code: source.department.resh }] }],
            name: source.department.name,
            partOf: { reference: '#institution' },
          },
        ]
      : []),
    ...(source.author
      ? [
          {
            resourceType: 'Practitioner' as const,
            id: 'author',
            identifier: [{ system: SYSTEMS.hpr, value: source.author.hpr }],
            name: [{ family: source.author.family, given: source.author.given }],
          },
        ]
      : []),
  ];
  const documentReference: DocumentReference & { masterIdentifier: { value: string } } = {
    resourceType: 'DocumentReference',
    id: input.id,
    meta: { profile: [MHD_PROFILE] },
    contained,
    masterIdentifier: { value: documentUniqueId },
    identifier: [{ use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${input.id}` }],
    status: 'current',
    type: {
      coding: [
        { system: DOCUMENT_CLASS_SYSTEM, code: input.type, display: ownValue(KNOWN_TYPES, input.type) ?? input.title },
      ],
    },
    category: [
      {
        coding: [
          { system: DOCUMENT_CLASS_SYSTEM, code: input.category, display: ownValue(CATEGORIES, input.category) },
        ],
      },
    ],
    subject: {
      reference: `Patient/${input.patient.id}`,
      identifier: { system: identifierSystemOf(input.patient.nin), value: input.patient.nin },
    },
    date: input.date,
    author: contained.map((r) => ({ reference: `#${r.id}` })),
    ...(input.replaces
      ? { relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${input.replaces}` } }] }
      : {}),
    securityLabel: [{ coding: [{ system: SECURITY_LABEL_SYSTEM, code: input.securityLabel ?? 'N' }] }],
    content: [
      {
        attachment: {
          contentType: input.contentType,
          language: 'nb-NO',
          url: retrieveLink(documentUniqueId, source.institution.orgnr),
          size: input.bytes.length,
          hash: sha1Base64(input.bytes),
          title: input.title,
          creation: input.date,
        },
        format: { system: FORMAT_SYSTEM, code: input.format, display: ownValue(FORMATS, input.format) ?? input.format },
      },
    ],
    context: {
      ...(input.facilityType
        ? { facilityType: { coding: [{ system: FACILITY_TYPE_SYSTEM, ...input.facilityType }] } }
        : {}),
      ...(input.practiceSetting ? { practiceSetting: { coding: [input.practiceSetting] } } : {}),
      sourcePatientInfo: { reference: `Patient/${input.patient.id}` },
    },
  };
  const binary: Binary & { id: string } = {
    resourceType: 'Binary',
    id: binaryIdOfHash(sha1Base64(input.bytes)),
    contentType: input.contentType,
    data: Buffer.from(input.bytes).toString('base64'),
  };
  return { documentReference, binary };
}

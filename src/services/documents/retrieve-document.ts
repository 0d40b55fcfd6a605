import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, FhirError, forbidden, notFound } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { AccessContext } from '../../trust/access-context';
import { nhnHeader } from '../../trust/guard';
import { assertConsumerAccess, documentsBlockedByConsent, isBlocked, patientNinOfDocument } from './document-access';
import { binaryIdOfHash } from './document-reference';
import type { PjdContext } from './pjd-context';

/**
 * ITI-68 Retrieve Document: `GET /mhd/document?documentUniqueId=&repositoryUniqueId=&homeCommunityId=`
 * (and the old `/mhd/iti68/document`) answers the document's bytes with its own content type, never a
 * FHIR Bundle. `nhn-patient-nin` is required and must be the document's patient.
 */
export const ITI_68: Interaction = {
  service: 'pjd',
  code: 'ITI-68',
  display: 'Retrieve Document',
  action: 'R',
  seen: 'Dokument',
};

/** The patient the request names: nhn-patient-nin, or the older hit-patient-pid. */
export function requestedPatientNin(req: Request): string | undefined {
  return (
    nhnHeader(req, 'patient-nin') ??
    (typeof req.headers['hit-patient-pid'] === 'string'
      ? req.headers['hit-patient-pid'].trim() || undefined
      : undefined)
  );
}

function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (Array.isArray(value)) throw badRequest('NAVET-PJD-RETRIEVE', `${name} was given more than once`, [name]);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export async function retrieveDocument(
  context: PjdContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  await assertConsumerAccess(req, access, await context.settings.read(sandbox.name), 'read');
  const nin = requestedPatientNin(req);
  if (!nin)
    throw badRequest(
      'NAVET-PJD-PATIENT-NIN',
      "The nhn-patient-nin header is required: the fødselsnummer of the document's patient",
      ['nhn-patient-nin'],
    );
  if (!/^\d{11}$/.test(nin))
    throw badRequest('NAVET-PJD-PATIENT-NIN', `nhn-patient-nin '${nin}' is not an 11-digit fødselsnummer or D-number`, [
      'nhn-patient-nin',
    ]);
  const documentUniqueId = queryValue(req, 'documentUniqueId');
  const repositoryUniqueId = queryValue(req, 'repositoryUniqueId');
  const homeCommunityId = queryValue(req, 'homeCommunityId');
  if (!documentUniqueId)
    throw badRequest(
      'NAVET-PJD-RETRIEVE',
      "documentUniqueId is required (the link is the DocumentReference's content.attachment.url)",
      ['documentUniqueId'],
    );
  if (!repositoryUniqueId)
    throw badRequest(
      'NAVET-PJD-RETRIEVE',
      "repositoryUniqueId is required (the link is the DocumentReference's content.attachment.url)",
      ['repositoryUniqueId'],
    );
  if (documentUniqueId.length > 200 || /[,|\\]/.test(documentUniqueId))
    throw badRequest('NAVET-PJD-RETRIEVE', 'documentUniqueId is not a document id of this service', [
      'documentUniqueId',
    ]);

  const found = await context.store.search(sandbox.name, {
    ...parseSearchRequest('DocumentReference', [['identifier', documentUniqueId]]),
    count: 2,
    totalNone: true,
  });
  const document = found.matches.find(
    (d) => (d.masterIdentifier as { value?: string } | undefined)?.value === documentUniqueId,
  );
  const unknown = () =>
    notFound('NAVET-PJD-DOCUMENT-NOT-FOUND', `No document ${documentUniqueId} in repository ${repositoryUniqueId}`);
  if (!document) throw unknown();
  const link = new URLSearchParams(
    ((document.content as { attachment?: { url?: string } }[])[0]?.attachment?.url ?? '').split('?')[1] ?? '',
  );
  if (link.get('repositoryUniqueId') !== repositoryUniqueId) throw unknown();
  if (homeCommunityId && link.get('homeCommunityId') !== homeCommunityId) {
    throw notFound(
      'NAVET-PJD-DOCUMENT-NOT-FOUND',
      `Document ${documentUniqueId} is not in community ${homeCommunityId}; it is in ${link.get('homeCommunityId')}`,
    );
  }
  if ((await patientNinOfDocument(context.store, sandbox.name, document)) !== nin)
    throw forbidden(
      'NAVET-PJD-PATIENT-MISMATCH',
      `Document ${documentUniqueId} does not belong to the patient in nhn-patient-nin (${nin})`,
    );
  if (isBlocked(document, await documentsBlockedByConsent(context.store, sandbox.name, nin, sandbox.clock.now())))
    throw forbidden(
      'NAVET-PJD-DOCUMENT-BLOCKED',
      `The patient has blocked document ${documentUniqueId} (NORS); it cannot be retrieved`,
    );
  const hash = (document.content as { attachment?: { hash?: string } }[])[0]?.attachment?.hash;
  const binaryId = hash ? binaryIdOfHash(hash) : undefined;
  const binary = binaryId ? await context.store.find(sandbox.name, 'Binary', binaryId) : undefined;
  if (!binary || typeof binary.data !== 'string')
    throw new FhirError(404, [
      {
        severity: 'error',
        code: 'not-found',
        navetCode: 'NAVET-PJD-NO-CONTENT',
        text: `Document ${documentUniqueId} has no stored content in this sandbox (no Binary with its attachment.hash)`,
      },
    ]);
  const bytes = Buffer.from(binary.data, 'base64');
  return {
    patients: [
      {
        nin,
        id: (document.subject as { reference?: string }).reference?.replace(/^Patient\//, ''),
        resources: [`DocumentReference/${document.id}`, `Binary/${binary.id}`],
      },
    ],
    query: new URLSearchParams(req.query as Record<string, string>).toString(),
    send: (response) => {
      response.status(200).type(String(binary.contentType ?? 'application/octet-stream'));
      response.setHeader('Content-Length', String(bytes.length));
      response.end(bytes);
    },
  };
}

import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, forbidden, notFound } from '../../fhir/operation-outcome';
import { sendFhir } from '../../http/fhir-json';
import { isValidId } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { patientNinOfDocument } from './document-access';
import type { PjdContext } from './pjd-context';
import { requestedPatientNin } from './retrieve-document';

/**
 * Deprecating a document (sandbox only, as XDS metadata update does it): `POST <pjd>/R4/fhir/
 * DocumentReference/{id}/$deprecate` with `nhn-patient-nin`. Only the institution that published it may;
 * the document becomes `superseded` (XDS "Deprecated") with no replacement and leaves `status=current` lists.
 */
export const DEPRECATE: Interaction = {
  service: 'pjd',
  code: 'NAVET-DEPRECATE',
  display: 'Deprecate Document',
  action: 'U',
  seen: 'Dokument trukket tilbake',
};

export async function deprecateDocument(
  context: PjdContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const id = String(req.params.id);
  const nin = requestedPatientNin(req);
  if (!nin || !/^\d{11}$/.test(nin))
    throw badRequest(
      'NAVET-PJD-PATIENT-NIN',
      "The nhn-patient-nin header is required: the fødselsnummer of the document's patient",
      ['nhn-patient-nin'],
    );
  const document = isValidId(id) ? await context.store.find(sandbox.name, 'DocumentReference', id) : undefined;
  if (!document) throw notFound('NAVET-PJD-DOCUMENT-NOT-FOUND', `No DocumentReference/${id} in this sandbox`);
  if ((await patientNinOfDocument(context.store, sandbox.name, document)) !== nin)
    throw forbidden(
      'NAVET-PJD-PATIENT-MISMATCH',
      `DocumentReference/${id} does not belong to the patient in nhn-patient-nin (${nin})`,
    );
  const publisher = ((document.contained ?? []) as { id?: string; identifier?: { value?: string }[] }[]).find(
    (r) => r.id === 'institution',
  )?.identifier?.[0]?.value;
  const caller = [
    access.organisation?.pointOfCare.id,
    access.organisation?.legalEntity.id,
    access.client.orgnrChild,
    access.client.orgnrParent,
  ].filter(Boolean);
  if (!publisher || !caller.includes(publisher))
    throw forbidden(
      'NAVET-PJD-NOT-PUBLISHER',
      `Only the institution that published DocumentReference/${id} (${publisher ?? 'unknown'}) may deprecate it`,
    );
  if (document.status !== 'current')
    throw forbidden(
      'NAVET-PJD-NOT-CURRENT',
      `DocumentReference/${id} is ${String(document.status)}; only a current document can be deprecated`,
    );
  const now = sandbox.clock.now().toISOString();
  const { resource } = await context.store.update(
    sandbox.name,
    { ...document, status: 'superseded' },
    now,
    Number(document.meta?.versionId),
  );
  return {
    patients: [{ nin, resources: [`DocumentReference/${id}`] }],
    send: (response) => sendFhir(req, response, 200, resource),
  };
}

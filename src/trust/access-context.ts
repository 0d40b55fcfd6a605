/**
 * What the guard hands a service facade after verifying token, DPoP proof and attestation: who looks,
 * where they work, why, and for which patient. Facades and the audit log read this; they never parse tokens.
 */
export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export interface OrganisationRef {
  /** Organisation number (ENH) or RESH id. */
  id: string;
  system: string;
  name?: string;
}

export interface AccessContext {
  sandbox: string;
  client: {
    clientId: string;
    name: string;
    orgnrParent?: string;
    orgnrChild?: string;
    orgnrSupplier?: string;
    tenancy: 'single-tenant' | 'multi-tenant';
  };
  /** Scopes of the access token. */
  scopes: string[];
  audience: string;
  /** 'DPoP' when the token is sender-constrained, else 'Bearer'. */
  tokenType: 'DPoP' | 'Bearer';
  /** The logged-in user (user flows) or the practitioner the system attests (client_credentials). */
  practitioner?: {
    pid?: string;
    hprNumber?: string;
    name?: string;
    authorization?: Coding;
    /** true when HelseID authenticated the person; false when only attested by the system. */
    authenticated: boolean;
  };
  organisation?: {
    legalEntity: OrganisationRef;
    pointOfCare: OrganisationRef;
    department?: OrganisationRef;
  };
  careRelationship?: {
    purposeOfUse: Coding;
    healthcareService?: Coding;
    purposeOfUseDetails?: Coding;
    decisionRef?: { id: string; userSelected?: boolean; description?: string };
  };
  patient?: {
    nin?: string;
    pointOfCare?: OrganisationRef;
    department?: OrganisationRef;
  };
  /** nhn-access-basis / access-basis header, where the service uses it. */
  accessBasis?: string;
  /** nhn-source-system header. */
  sourceSystem?: string;
  /** nhn-event-id header or a generated id. */
  eventId: string;
  /** The access token's jti. */
  tokenId: string;
  /** Time of the attestation (toa), when given. */
  attestedAt?: Date;
  /** SFM journal id (nhn:sfm:journal-id), when given. */
  journalId?: string;
}

/** What the guard knew: everything for an accepted request, only part of it for a rejected one. */
export type KnownAccess = Partial<AccessContext> & Pick<AccessContext, 'sandbox' | 'eventId'>;

/** The scopes and audiences of the national services (trust-framework spec), plus Navet's own. */
export interface ApiResource {
  audience: string;
  scopes: string[];
}

export const API_RESOURCES: ApiResource[] = [
  {
    audience: 'nhn:kjernejournal',
    scopes: ['nhn:kjernejournal/innlogging', 'nhn:kjernejournal/tillitsrammeverk', 'nhn:kjernejournal/api'],
  },
  {
    audience: 'nhn:phr',
    scopes: [
      'nhn:phr/mhd/read-documentreferences',
      'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften',
      'nhn:phr/mhd/read-document',
      'navet:pjd/provide-document',
    ],
  },
  { audience: 'e-helse:sfm.api', scopes: ['e-helse:sfm.api/sfm.api2', 'e-helse:sfm.api/sfm.api'] },
  { audience: 'nhn:pps', scopes: ['nhn:pps/provesvar-read', 'nhn:pps/provesvar', 'navet:pps/submit-result'] },
  // Navet's own: the citizen's Helsenorge-like API
  { audience: 'navet:citizen', scopes: ['navet:citizen'] },
];

/**
 * Identity scopes of user flows (HelseID's scope reference, utviklerportal "Scopes"; the older
 * helseid://scopes/hpr of nhn.no's list); they do not choose an audience. Every one yields its claims.
 */
export const IDENTITY_SCOPES = [
  'openid',
  'profile',
  'offline_access',
  'helseid://scopes/identity/all',
  'helseid://scopes/identity/pid',
  'helseid://scopes/identity/pid_pseudonym',
  'helseid://scopes/identity/security_level',
  'helseid://scopes/identity/assurance_level',
  'helseid://scopes/identity/network',
  'helseid://scopes/hpr/hpr_number',
  'helseid://scopes/hpr',
  'nhn:tillitsrammeverk:parameters',
];

export const ALL_SCOPES = [...IDENTITY_SCOPES, ...API_RESOURCES.flatMap((r) => r.scopes)];

export function audienceOfScope(scope: string): string | undefined {
  return API_RESOURCES.find((r) => r.scopes.includes(scope))?.audience;
}

export function isKnownAudience(audience: string): boolean {
  return API_RESOURCES.some((r) => r.audience === audience);
}

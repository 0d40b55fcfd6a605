import attestation from './requirements/attestation.json';
import helseid from './requirements/helseid.json';
import kjernejournal from './requirements/kjernejournal.json';
import navet from './requirements/cross-service.json';
import pjd from './requirements/pjd.json';
import pps from './requirements/pps.json';
import sfm from './requirements/sfm.json';

/** The requirement catalogue: data files, one per area (requirements/*.json). Graders are keyed by id. */
export const PROFILES = [
  'helseid-client',
  'pjd-consumer',
  'pjd-source',
  'kj-critical-information',
  'sfm-basis',
  'pps-consumer',
  'pps-lab-source',
] as const;
export type Profile = (typeof PROFILES)[number];
export type Level = 'required' | 'recommended' | 'optional';
export type Verification = 'traffic' | 'challenge' | 'declaration';

export interface RequirementSource {
  document: string;
  url: string;
  section?: string;
  /** The source's own id (ATT-43, FK3, 3.1.1, F.1), when it has one. */
  upstreamId?: string;
  /** When Navet's authors read it (YYYY-MM-DD). */
  read: string;
}

export interface Requirement {
  id: string;
  title: string;
  /** The source's wording (Norwegian where quoted) with an English gloss, or Navet's own statement. */
  text: string;
  level: Level;
  source: RequirementSource;
  /** True where the requirement is Navet's inference from the source, not stated by it. */
  derived: boolean;
  profiles: Profile[];
  verification: Verification;
  /** For challenges: its name (POST …/challenges {"challenge"}) and how long the client has to react. */
  challenge?: { name: string; timeLimitSeconds: number };
  notTestedReason?: string;
}

export interface CatalogueFile {
  area: string;
  requirements: Requirement[];
}

const FILES = [helseid, attestation, pjd, kjernejournal, sfm, pps, navet] as unknown as CatalogueFile[];

function check(requirement: Requirement, area: string): Requirement {
  const where = `${area}: ${requirement.id}`;
  if (!/^[A-Z]+(-[A-Z0-9]+)+$/.test(requirement.id))
    throw new Error(`${where}: an id is upper-case words joined by '-'`);
  if (!['required', 'recommended', 'optional'].includes(requirement.level))
    throw new Error(`${where}: level must be required, recommended or optional`);
  if (!['traffic', 'challenge', 'declaration'].includes(requirement.verification))
    throw new Error(`${where}: verification must be traffic, challenge or declaration`);
  if (!requirement.profiles.length || requirement.profiles.some((p) => !PROFILES.includes(p)))
    throw new Error(`${where}: profiles must be some of ${PROFILES.join(', ')}`);
  if (
    !requirement.source?.url?.startsWith('https://') ||
    !requirement.source.document ||
    !/^\d{4}-\d{2}-\d{2}$/.test(requirement.source.read)
  )
    throw new Error(`${where}: the source needs a document, an https URL and the date read`);
  if (typeof requirement.derived !== 'boolean' || !requirement.title || !requirement.text)
    throw new Error(`${where}: title, text and derived are required`);
  if ((requirement.verification === 'challenge') !== (requirement.challenge !== undefined))
    throw new Error(`${where}: a challenge requirement names its challenge, and only it`);
  if (requirement.verification === 'declaration' && !requirement.notTestedReason)
    throw new Error(`${where}: a declaration says why Navet cannot test it (notTestedReason)`);
  return requirement;
}

function load(): Requirement[] {
  const all = FILES.flatMap((file) => file.requirements.map((r) => check(r, file.area)));
  const seen = new Set<string>();
  for (const r of all) {
    if (seen.has(r.id)) throw new Error(`requirement ${r.id} is in the catalogue twice`);
    seen.add(r.id);
  }
  return all;
}

export const REQUIREMENTS: readonly Requirement[] = load();
export const AREAS: readonly { area: string; ids: string[] }[] = FILES.map((f) => ({
  area: f.area,
  ids: f.requirements.map((r) => r.id),
}));

export const requirementById = (id: string): Requirement | undefined => REQUIREMENTS.find((r) => r.id === id);
export const isProfile = (value: string): value is Profile => (PROFILES as readonly string[]).includes(value);

import path from 'node:path';
import { ProfileSet } from '../../fhir/profile-validation';

/** The NILAR profiles submitted lab results are validated against (profiles/nilar-profiles.json). */
export const NILAR_PROFILES = ProfileSet.fromFile(
  path.join(__dirname, '..', '..', '..', 'profiles', 'nilar-profiles.json'),
);

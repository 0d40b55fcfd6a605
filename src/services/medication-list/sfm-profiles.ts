import path from 'node:path';
import { ProfileSet } from '../../fhir/profile-validation';

/** The sfm profiles a `$sendMedication` Bundle and its entries are validated against (profiles/sfm-profiles.json). */
export const SFM_PROFILES = ProfileSet.fromFile(
  path.join(__dirname, '..', '..', '..', 'profiles', 'sfm-profiles.json'),
);

import type { AnyServiceModule } from '../audit/service-module';
import { KJ_SERVICE } from './critical-info/critical-information-router';
import { PJD_SERVICE } from './documents/pjd-router';
import { PPS_SERVICE } from './lab-results/pps-router';
import { SFM_SERVICE } from './medication-list/sfm-router';

/**
 * The services of a sandbox, in seeding order. The app mounts each at `/sandboxes/<name>/<base>`, registers
 * its settings API, and the patient-data endpoint list and the seeders are read from here.
 */
export const SERVICES: readonly AnyServiceModule[] = [PJD_SERVICE, KJ_SERVICE, SFM_SERVICE, PPS_SERVICE];

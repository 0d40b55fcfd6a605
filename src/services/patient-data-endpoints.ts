import type { PatientDataEndpoint } from '../audit/patient-data-route';
import { KJ_PATIENT_DATA_ENDPOINTS } from './critical-info/critical-information-router';
import { PJD_PATIENT_DATA_ENDPOINTS } from './documents/pjd-router';
import { SFM_PATIENT_DATA_ENDPOINTS } from './medication-list/sfm-router';
import { PPS_PATIENT_DATA_ENDPOINTS } from './lab-results/pps-router';

/** Every service endpoint that returns or changes patient data, by service base. Each writes the access log. */
export const PATIENT_DATA_ENDPOINTS: Readonly<Record<string, PatientDataEndpoint[]>> = {
  pjd: PJD_PATIENT_DATA_ENDPOINTS,
  'critical-information': KJ_PATIENT_DATA_ENDPOINTS,
  sfm: SFM_PATIENT_DATA_ENDPOINTS,
  pps: PPS_PATIENT_DATA_ENDPOINTS,
};

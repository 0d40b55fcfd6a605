import type { PatientDataEndpoint } from '../audit/patient-data-route';
import { patientDataEndpoints } from '../audit/service-module';
import { SERVICES } from './services';

/** Every service endpoint that returns or changes patient data, by service base. Each writes the access log. */
export const PATIENT_DATA_ENDPOINTS: Readonly<Record<string, PatientDataEndpoint[]>> = Object.fromEntries(
  SERVICES.map((service) => [service.base, patientDataEndpoints(service)]),
);

/** The base URL of each service of a sandbox. Below each base, the real API's paths are kept. */
export interface ServiceUrls {
  fhir: string;
  helseid: string;
  pjd: string;
  criticalInformation: string;
  sfm: string;
  pps: string;
  citizen: string;
}

export function sandboxBaseUrl(baseUrl: string, sandbox: string): string {
  return `${baseUrl}/sandboxes/${sandbox}`;
}

export function serviceUrls(baseUrl: string, sandbox: string): ServiceUrls {
  const root = sandboxBaseUrl(baseUrl, sandbox);
  return {
    fhir: `${root}/fhir`,
    helseid: `${root}/helseid`,
    pjd: `${root}/pjd`,
    criticalInformation: `${root}/critical-information`,
    sfm: `${root}/sfm`,
    pps: `${root}/pps`,
    citizen: `${root}/citizen`,
  };
}

/** A service mounted in each sandbox: its name in the URL list and its path below the sandbox's base URL. */
export interface ServiceBase<K extends string = string> {
  key: K;
  base: string;
}

/** The base URL of each part of a sandbox. Below each base, the real API's paths are kept. */
export type ServiceUrls<K extends string = string> = { fhir: string; helseid: string; citizen: string } & Record<
  K,
  string
>;

export function sandboxBaseUrl(baseUrl: string, sandbox: string): string {
  return `${baseUrl}/sandboxes/${sandbox}`;
}

/** The URL of what a sandbox mounts at `path`: `fhir`, `helseid`, `citizen` or a service's base. */
export function sandboxUrl(baseUrl: string, sandbox: string, path: string): string {
  return `${sandboxBaseUrl(baseUrl, sandbox)}/${path}`;
}

/** The sandbox's own parts and each of its services (in their order), as vendors see them listed. */
export function serviceUrls<K extends string>(
  baseUrl: string,
  sandbox: string,
  services: readonly ServiceBase<K>[],
): ServiceUrls<K> {
  const url = (path: string) => sandboxUrl(baseUrl, sandbox, path);
  return {
    fhir: url('fhir'),
    helseid: url('helseid'),
    ...Object.fromEntries(services.map((service) => [service.key, url(service.base)])),
    citizen: url('citizen'),
  } as ServiceUrls<K>;
}

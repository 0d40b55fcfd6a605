import { readFileSync } from 'node:fs';
import type { Bundle } from '../fhir/types';
import { NavetError } from '../codes/navet-error';

/**
 * Reads the Bundle files `navet seed` loads, all of them before anything changes: a missing file, a
 * file that is not JSON or not a transaction or batch Bundle stops the command with a message that
 * says which file and what to do.
 */
export class CliInputError extends NavetError {
  static override readonly code = 'NAVET-CLI-INPUT';
}

export function readBundleFiles(files: string[]): { file: string; bundle: Bundle }[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliInputError(
        code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? 'error'})`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CliInputError(`${file} is not JSON: ${(error as Error).message}`);
    }
    const resource = json as { resourceType?: unknown; type?: unknown };
    const shape =
      'a FHIR Bundle of type transaction or batch: {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {…}, "request": {"method": "POST", "url": "Patient"}}]}';
    if (typeof json !== 'object' || json === null || Array.isArray(json) || resource.resourceType !== 'Bundle') {
      const what =
        typeof resource?.resourceType === 'string'
          ? `a ${resource.resourceType}`
          : Array.isArray(json)
            ? 'a JSON array'
            : 'not a FHIR resource';
      throw new CliInputError(`${file} is ${what}, not a Bundle; navet seed --bundle loads ${shape}`);
    }
    if (resource.type !== 'transaction' && resource.type !== 'batch') {
      throw new CliInputError(
        `${file} is a Bundle of type ${JSON.stringify(resource.type ?? null)}; navet seed --bundle loads ${shape}`,
      );
    }
    return { file, bundle: json as Bundle };
  });
}

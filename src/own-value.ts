/** A record's own value for a key taken from a request: never an inherited one like "constructor". */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

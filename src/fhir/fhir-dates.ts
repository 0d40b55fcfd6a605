/** FHIR date/dateTime/instant values as millisecond ranges [low, high], both inclusive. */
export interface DateRange {
  low: number;
  high: number;
}

const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Parses a FHIR date, dateTime or instant; values without a time zone are read as UTC. */
export function parseFhirDate(value: string): DateRange | undefined {
  const m = DATE_PATTERN.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31) return undefined;
  const offsetMs =
    tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60000 : 0;
  if (h === undefined) {
    const low = Date.UTC(year, month, day);
    const high =
      mo === undefined
        ? Date.UTC(year + 1, 0, 1)
        : d === undefined
          ? Date.UTC(year, month + 1, 1)
          : Date.UTC(year, month, day + 1);
    return { low, high: high - 1 };
  }
  const seconds = s === undefined ? 0 : Number(s);
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = Date.UTC(year, month, day, Number(h), Number(mi), seconds, millis) - offsetMs;
  if (Number.isNaN(low)) return undefined;
  const span = s === undefined ? 60000 : frac === undefined ? 1000 : 1;
  return { low, high: low + span - 1 };
}

export const FAR_PAST = -8.64e15;
export const FAR_FUTURE = 8.64e15;

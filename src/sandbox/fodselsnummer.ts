/**
 * Norwegian national identity numbers (fødselsnummer, D-nummer, synthetic "Tenor" numbers) and
 * organisation numbers: check digits, parsing and making synthetic numbers.
 * Layout: DDMMYY III K1 K2 — III is the individual number, its last digit the sex (odd = male).
 * A D-number adds 4 to the first digit, an H-number 40 to the month, a Tenor number 80 to the month.
 */

export type Sex = 'male' | 'female';

const K1_WEIGHTS = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const ORGNR_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2];

/** 11 - (weighted sum mod 11), with 11 → 0; undefined when the result would be 10 (no valid digit). */
function mod11(digits: string, weights: number[]): number | undefined {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i] * Number(digits[i]);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? undefined : check;
}

/** The two check digits for the first nine digits, or undefined when a check digit would be 10. */
export function fodselsnummerCheckDigits(firstNine: string): string | undefined {
  if (!/^\d{9}$/.test(firstNine)) throw new Error(`Expected nine digits, got ${JSON.stringify(firstNine)}`);
  const k1 = mod11(firstNine, K1_WEIGHTS);
  if (k1 === undefined) return undefined;
  const k2 = mod11(firstNine + k1, K2_WEIGHTS);
  return k2 === undefined ? undefined : `${k1}${k2}`;
}

/** True when an 11-digit number has the (classic) check digits; says nothing about the date. */
export function hasValidCheckDigits(number: string): boolean {
  return /^\d{11}$/.test(number) && fodselsnummerCheckDigits(number.slice(0, 9)) === number.slice(9);
}

/** The century of a two-digit year from the individual number; undefined for impossible combinations. */
export function birthYear(twoDigitYear: number, individualNumber: number): number | undefined {
  if (individualNumber <= 499) return 1900 + twoDigitYear;
  if (individualNumber <= 749 && twoDigitYear >= 54) return 1800 + twoDigitYear;
  if (twoDigitYear <= 39) return 2000 + twoDigitYear;
  if (individualNumber >= 900) return 1900 + twoDigitYear;
  return undefined;
}

/** The individual-number ranges used for people born in a year. */
export function individualNumberRanges(year: number): [number, number][] {
  if (year >= 1854 && year <= 1899) return [[500, 749]];
  if (year >= 1900 && year <= 1939) return [[0, 499]];
  if (year >= 1940 && year <= 1999)
    return [
      [0, 499],
      [900, 999],
    ];
  if (year >= 2000 && year <= 2039) return [[500, 999]];
  throw new Error(`No individual numbers are defined for people born in ${year}`);
}

export interface ParsedIdNumber {
  number: string;
  /** 'dnr' when the first digit is 4 or more, else 'fnr'. */
  kind: 'fnr' | 'dnr';
  /** A synthetic (Tenor, month + 80) number. */
  synthetic: boolean;
  /** An H-number (month + 40). */
  hNumber: boolean;
  individualNumber: number;
  birthDate: string;
  sex: Sex;
  checkDigitsValid: boolean;
}

/** Reads a fødselsnummer or D-number; undefined when it is not 11 digits or holds no real date. */
export function parseIdNumber(number: string): ParsedIdNumber | undefined {
  if (!/^\d{11}$/.test(number)) return undefined;
  let day = Number(number.slice(0, 2));
  let month = Number(number.slice(2, 4));
  const twoDigitYear = Number(number.slice(4, 6));
  const individualNumber = Number(number.slice(6, 9));
  const kind = day > 40 ? 'dnr' : 'fnr';
  if (kind === 'dnr') day -= 40;
  const synthetic = month > 80;
  const hNumber = month > 40 && month <= 72;
  if (synthetic) month -= 80;
  else if (hNumber) month -= 40;
  const year = birthYear(twoDigitYear, individualNumber);
  if (year === undefined || !isRealDate(year, month, day)) return undefined;
  return {
    number,
    kind,
    synthetic,
    hNumber,
    individualNumber,
    birthDate: `${year}-${pad(month, 2)}-${pad(day, 2)}`,
    sex: Number(number[8]) % 2 === 1 ? 'male' : 'female',
    checkDigitsValid: hasValidCheckDigits(number),
  };
}

/**
 * A synthetic (Tenor) fødselsnummer: month + 80, valid check digits. Starts at `individualNumber`
 * (moved up by one if its last digit does not match the sex) and tries the next individual numbers of
 * the same sex, wrapping round the year's ranges, while a check digit would be 10 or `isTaken` says so.
 */
export function makeSyntheticFodselsnummer(
  birthDate: string,
  individualNumber: number,
  sex: Sex,
  isTaken: (number: string) => boolean = () => false,
): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!match || !isRealDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new Error(`Expected a birth date YYYY-MM-DD, got ${JSON.stringify(birthDate)}`);
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const datePart = `${pad(day, 2)}${pad(month + 80, 2)}${pad(year % 100, 2)}`;
  for (const candidate of individualNumbersFrom(year, individualNumber, sex)) {
    const firstNine = datePart + pad(candidate, 3);
    const checkDigits = fodselsnummerCheckDigits(firstNine);
    if (checkDigits !== undefined && !isTaken(firstNine + checkDigits)) return firstNine + checkDigits;
  }
  throw new Error(`No free synthetic fødselsnummer left for a ${sex} born ${birthDate}`);
}

/** The year's individual numbers of one sex, from `start` upwards and then from the lowest. */
function individualNumbersFrom(year: number, start: number, sex: Sex): number[] {
  const wantedParity = sex === 'male' ? 1 : 0;
  const all: number[] = [];
  for (const [low, high] of individualNumberRanges(year)) {
    for (let n = low; n <= high; n++) if (n % 2 === wantedParity) all.push(n);
  }
  const first = all.findIndex((n) => n >= start);
  return first <= 0 ? all : [...all.slice(first), ...all.slice(0, first)];
}

/** The organisation number check digit for the first eight digits, or undefined when it would be 10. */
export function orgnrCheckDigit(firstEight: string): number | undefined {
  if (!/^\d{8}$/.test(firstEight)) throw new Error(`Expected eight digits, got ${JSON.stringify(firstEight)}`);
  return mod11(firstEight, ORGNR_WEIGHTS);
}

export function isValidOrgnr(orgnr: string): boolean {
  return /^\d{9}$/.test(orgnr) && orgnrCheckDigit(orgnr.slice(0, 8)) === Number(orgnr[8]);
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

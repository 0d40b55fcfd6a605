import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODE_AREAS, ERROR_CODES, isNavetErrorCode } from '../../src/codes/error-codes';
import { errorCodesTable, withErrorCodesTable } from '../../src/codes/error-codes-table';

const ROOT = path.resolve(__dirname, '..', '..');
const CATALOGUE = path.join('src', 'codes', 'error-codes.ts');
/** Strings shaped like error codes that are not: the audit interaction code of PJD's deprecate. */
const NOT_ERROR_CODES = new Set(['NAVET-DEPRECATE']);

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|json)$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/**
 * In src/ and profiles/ (but the catalogue): every quoted NAVET-… or ATT-<n> literal (with a file that has it),
 * every `NAVET-…-${` template prefix, and every quoted literal shaped like a code (for the unused check).
 */
function codesInSources(files = [...filesUnder('src'), ...filesUnder('profiles')].filter((f) => f !== CATALOGUE)) {
  const literals = new Map<string, string>();
  const prefixes = new Map<string, string>();
  const quoted = new Set<string>();
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/['"`]((?:NAVET(?:-[A-Z0-9]+)+)|ATT-\d+)['"`]/g))
      if (!NOT_ERROR_CODES.has(m[1])) literals.set(m[1], file);
    for (const m of text.matchAll(/`(NAVET(?:-[A-Z0-9]+)*-)\$\{/g)) prefixes.set(m[1], file);
    for (const m of text.matchAll(/['"`]([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)['"`]/g)) quoted.add(m[1]);
  }
  return { literals, prefixes, quoted };
}

describe('error-code catalogue', () => {
  const { literals, prefixes, quoted } = codesInSources();

  test('every code used in src/ and profiles/ is in the catalogue', () => {
    const missing = [...literals]
      .filter(([code]) => !isNavetErrorCode(code))
      .map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
    for (const [prefix, file] of prefixes) {
      expect([prefix, file, Object.keys(ERROR_CODES).some((c) => c.startsWith(prefix))]).toEqual([prefix, file, true]);
    }
  });

  test('every code of the catalogue is used, and each is in one area only', () => {
    const unused = Object.keys(ERROR_CODES).filter(
      (code) => !quoted.has(code) && ![...prefixes.keys()].some((p) => code.startsWith(p)),
    );
    expect(unused).toEqual([]);
    const all = ERROR_CODE_AREAS.flatMap((a) => Object.keys(a.codes));
    expect(all.length).toBe(new Set(all).size);
    for (const meaning of Object.values(ERROR_CODES)) expect(meaning).toMatch(/^[^\n]{10,120}$/);
  });

  test('the scan finds a code that is not in the catalogue', () => {
    // this file names one uncatalogued code on purpose, in quotes as a throw site would
    const found = codesInSources([path.join('tests', 'unit', 'error-codes.test.ts')]).literals;
    expect([...found.keys()].filter((code) => !isNavetErrorCode(code))).toEqual(['NAVET-NOT-IN-THE-CATALOGUE']);
  });

  test("the README's tables are the catalogue's (npm run docs:error-codes)", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(withErrorCodesTable(readme)).toBe(readme);
    for (const code of Object.keys(ERROR_CODES)) expect(errorCodesTable()).toContain(`| \`${code}\` |`);
  });
});

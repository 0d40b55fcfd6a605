import { readFileSync } from 'node:fs';
import path from 'node:path';
import { requirementsTable, withTable } from '../../src/conformance/requirements-table';
import { REQUIREMENTS } from '../../src/conformance/requirement';

/** The README's requirements table is the catalogue's (npm run docs:requirements), never kept by hand. */
test('the README table matches the requirement catalogue', () => {
  const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(withTable(readme)).toBe(readme);
  const table = requirementsTable();
  for (const r of REQUIREMENTS) expect(table).toContain(`| \`${r.id}\` |`);
});

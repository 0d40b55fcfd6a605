import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseScenario, ScenarioFileError } from '../../src/scenarios/scenario-file';
import { interpolate } from '../../src/scenarios/scenario-runner';

/** The scenario format: every problem names its line; the shipped files are valid. */
const problemsOf = (text: string) => {
  try {
    parseScenario(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ScenarioFileError)
      return error.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}`);
    throw error;
  }
  return [];
};

const VALID = `name: ok
title: A valid scenario
actors:
  gp:
    title: GP
    organisation: { legalEntity: "100100673" }
    practitioner: { hpr: "565501872" }
steps:
  - id: find
    actor: gp
    call: pjd.find-document-references
    with: { patient: "13116900216" }
`;

describe('parseScenario', () => {
  test.each(readdirSync(path.resolve(__dirname, '..', '..', 'fixtures', 'scenarios')))(
    'the shipped %s is valid',
    (file) => {
      expect(
        problemsOf(readFileSync(path.resolve(__dirname, '..', '..', 'fixtures', 'scenarios', file), 'utf8')),
      ).toEqual([]);
    },
  );

  test('a valid file parses into actors and steps', () => {
    const scenario = parseScenario(VALID);
    expect(scenario.actors.gp.practitioner?.hpr).toBe('565501872');
    expect(scenario.steps[0]).toMatchObject({ id: 'find', call: 'pjd.find-document-references' });
  });

  test('a YAML syntax error names its line', () => {
    expect(problemsOf(`${VALID}  - id: [unclosed\n`)[0]).toMatch(/^14:1 {2}Flow sequence/);
  });

  test('schema errors name the line of the bad value, or of the object missing a field', () => {
    const bad = VALID.replace('hpr: "565501872"', 'hpr: "56"')
      .replace('    actor: gp\n', '    actor: gp\n    expect: { status: "two hundred" }\n')
      .replace('title: A valid scenario\n', '');
    expect(problemsOf(bad)).toEqual([
      "1:1  'title' is required",
      '6:26 actors.gp.practitioner.hpr must match pattern "^\\d{5,9}$"',
      '10:23 steps.0.expect.status must be integer',
      '10:23 steps.0.expect.status must be array',
    ]);
  });

  test('an actor that is both citizen and practitioner, a duplicate step id, an unknown actor and operation', () => {
    const bad = `${VALID.replace('    practitioner: { hpr: "565501872" }\n', '    practitioner: { hpr: "565501872" }\n    citizen: { fnr: "13116900216" }\n')}`;
    expect(problemsOf(bad)).toEqual([
      '5:5 actors.gp an actor is either a practitioner with an organisation, or a citizen',
    ]);
    const steps = `${VALID}  - id: find\n    actor: nurse\n    call: sfm.teleport\n`;
    expect(problemsOf(steps)).toEqual([
      "13:9 steps.1.id a step named 'find' comes earlier",
      "14:12 steps.1.actor no actor named 'nurse'; actors: gp",
      expect.stringMatching(/^15:11 steps\.1\.call no operation 'sfm\.teleport'; known: pjd\.provide-document/),
    ]);
  });
  test('cleanup steps are checked like steps: their actor, operation and a unique id', () => {
    const bad = `${VALID}cleanup:\n  - id: find\n    actor: citizen\n    call: citizen.privacy\n`;
    expect(problemsOf(bad)).toEqual([
      "14:9 cleanup.0.id a step named 'find' comes earlier",
      "15:12 cleanup.0.actor no actor named 'citizen'; actors: gp",
    ]);
  });
});

describe('interpolate', () => {
  test('replaces ${name} in strings, and a lone ${name} by the value itself', () => {
    const bundle = { resourceType: 'Bundle' };
    expect(interpolate({ a: 'x ${n} y', b: '${bundle}', c: ['${n}'] }, { n: 7, bundle })).toEqual({
      a: 'x 7 y',
      b: bundle,
      c: [7],
    });
    expect(() => interpolate('${missing}', {})).toThrow('${missing} is not set');
  });
});

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers of `src/`, lowest first: a file may import only from its own layer or a lower one, two folders
 * never import each other, and no files import each other in a circle (type-only imports count too).
 * The README's "Layout" section describes the same order.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['codes/'],
  ['logger.ts', 'config.ts', 'own-value.ts'],
  ['fhir/'],
  ['http/'],
  ['store/'],
  ['sandbox/'],
  ['trust/'],
  ['audit/'],
  ['citizen/'],
  ['services/*/'],
  ['services/'],
  ['scenarios/'],
  ['conformance/'],
  ['ui/'],
  ['app.ts'],
  ['navet.ts', 'sandbox-worker.ts'],
  ['cli/'],
  ['serve.ts'],
  ['main.ts'],
  ['clients/'],
  ['bench/'],
];

const SRC = path.join(__dirname, '../../src');

/** The folder (or top-level file) a file belongs to, and its layer's index. */
function placeOf(file: string): { unit: string; layer: number } {
  const parts = file.split('/');
  const unit =
    parts[0] === 'services' && parts.length > 2 ? `services/${parts[1]}/` : parts.length > 1 ? `${parts[0]}/` : file;
  const pattern = unit.startsWith('services/') && unit !== 'services/' ? 'services/*/' : unit;
  const layer = LAYERS.findIndex((names) => names.includes(pattern));
  return { unit, layer };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every module specifier a file names: imports, re-exports, `import()` types and calls, `require()`. */
function specifiersOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push(expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) found.push(literal.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))
        found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolve(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidate = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), base].find(
    (file) => existsSync(file) && statSync(file).isFile(),
  );
  return candidate === undefined ? undefined : path.relative(SRC, candidate).split(path.sep).join('/');
}

/** The import graph of `src/`: file → files it imports (paths relative to src, `/`-separated). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imported = specifiersOf(file)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(file, specifier))
      .filter((target): target is string => target !== undefined && !target.startsWith('..'));
    graph.set(path.relative(SRC, file).split(path.sep).join('/'), [...new Set(imported)]);
  }
  return graph;
}

/** One cycle through each strongly connected group of the graph (Tarjan), as a path that ends where it starts. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (group.length > 1 || selfLoop) groups.push(group);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups.map((group) => pathAround(graph, new Set(group), [...group].sort()[0]));
}

/** A shortest path from `start` back to itself inside one strongly connected group. */
function pathAround(graph: Map<string, string[]>, group: Set<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!group.has(target)) continue;
      if (target === start) {
        const route = [node];
        while (route[0] !== start) route.unshift(cameFrom.get(route[0])!);
        return [...route, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

describe('import layers of src/', () => {
  const graph = importGraph();

  test('every file of src/ belongs to a layer', () => {
    const unplaced = [...graph.keys()].filter((file) => placeOf(file).layer < 0);
    expect(unplaced).toEqual([]);
  });

  test('no file imports from a higher layer', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = placeOf(file);
      for (const target of targets) {
        const to = placeOf(target);
        if (to.layer > from.layer) upward.push(`${file} imports ${target} (${from.unit} is below ${to.unit})`);
      }
    }
    expect(upward).toEqual([]);
  });

  test('no two folders import each other', () => {
    const folders = new Map<string, string[]>();
    const example = new Map<string, string>();
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = placeOf(file).unit;
        const to = placeOf(target).unit;
        if (from === to) continue;
        folders.set(from, [...new Set([...(folders.get(from) ?? []), to])]);
        if (!example.has(`${from} ${to}`)) example.set(`${from} ${to}`, `${file} imports ${target}`);
      }
    }
    const circles = cycles(folders).map((route) =>
      route
        .slice(1)
        .map((to, i) => example.get(`${route[i]} ${to}`))
        .join('; '),
    );
    expect(circles).toEqual([]);
  });

  test('no files import each other in a circle', () => {
    expect(cycles(graph).map((route) => route.join(' → '))).toEqual([]);
  });
});

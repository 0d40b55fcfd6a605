/**
 * Which methods the app's routes answer for a path, found by walking express's router stack the way
 * it dispatches (a mounted router gets the rest of the path). Lets a wrong method on a known path get
 * 405 with `Allow` instead of "nothing is served here".
 */
interface LayerLike {
  match(path: string): false | { path: string };
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

function collect(stack: LayerLike[], path: string, into: Set<string>): void {
  for (const layer of stack) {
    let matched: false | { path: string };
    try {
      matched = layer.match(path);
    } catch {
      continue; // e.g. a path segment that is not valid percent-encoding
    }
    if (!matched) continue;
    if (layer.route) {
      // catch-all routes (router.all) answer every method and say nothing about this path
      if (layer.route.methods._all) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) if (on) into.add(method.toUpperCase());
    } else if (layer.handle?.stack) {
      collect(layer.handle.stack, path.slice(matched.path.length) || '/', into);
    }
  }
}

export function allowedMethods(router: unknown, path: string): string[] {
  const stack = (router as { stack?: LayerLike[] } | undefined)?.stack;
  if (!stack) return [];
  const methods = new Set<string>();
  collect(stack, path, methods);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

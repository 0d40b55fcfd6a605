import { useEffect, useState } from 'preact/hooks';

/** Hash routes: #/, #/s/<sandbox>/<page>/<rest…>. No key ever goes in them. */
export interface Route {
  sandbox?: string;
  page: string;
  rest: string[];
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 's' || !parts[1]) return { page: 'sandboxes', rest: [] };
  return { sandbox: parts[1], page: parts[2] ?? 'overview', rest: parts.slice(3) };
}

export function href(sandbox: string, page = 'overview', ...rest: string[]): string {
  return `#/s/${[sandbox, page, ...rest].map(encodeURIComponent).join('/')}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

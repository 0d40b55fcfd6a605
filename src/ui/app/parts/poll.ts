import { useEffect, useState } from 'preact/hooks';
import { call, request } from '../api';

/** Reads `path` every `everyMs` until `done(value)` (again when `restart` changes); answers the latest value and error. */
export function usePoll<T>(
  path: string | undefined,
  as: string,
  done: (value: T) => boolean,
  everyMs = 1000,
  restart = 0,
): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    if (!path) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    setState({});
    const tick = async () => {
      try {
        const value = await call<T>(path, { as });
        if (stopped) return;
        setState({ value });
        if (!done(value)) timer = setTimeout(tick, everyMs);
      } catch (error) {
        if (!stopped) setState({ error: error instanceof Error ? error.message : String(error) });
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, as, restart]);
  return state;
}

/** Downloads a report through fetch (the admin key in a header, not the address). */
export async function download(path: string, as: string, filename: string): Promise<void> {
  const response = await request(path, { as, headers: { Accept: '*/*' } });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

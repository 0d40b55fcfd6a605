import { SingleBar } from 'cli-progress';
import type { JobProgress } from '../sandbox/sandbox-jobs';

/** A progress bar on stderr (stdout stays for what scripts read, like admin keys); silent when stderr is no terminal. */
export function progressBar(title: string): { update(progress: JobProgress): void; stop(): void } {
  const bar = new SingleBar({
    format: `${title} [{bar}] {percentage}% | {phase} {value}/{total}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update({ phase, done, total }) {
      if (!started) {
        bar.start(Math.max(total, 1), done, { phase });
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { phase });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Runs work with a bar that the work's progress reports move. */
export async function withProgress<T>(
  title: string,
  work: (onProgress: (progress: JobProgress) => void) => Promise<T>,
): Promise<T> {
  const bar = progressBar(title);
  try {
    return await work((progress) => bar.update(progress));
  } finally {
    bar.stop();
  }
}

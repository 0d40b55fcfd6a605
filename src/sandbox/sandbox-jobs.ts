import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { FhirError, type OutcomeIssue } from '../fhir/operation-outcome';
import type { CreateSandboxInput } from './sandboxes';

/**
 * Long sandbox work (building and storing a seed, deleting a sandbox) runs in one worker thread, so
 * that no request holds the server's event loop while it happens. Jobs run one after the other.
 */
export interface WorkerSettings {
  databaseUrl?: string;
  dataDir: string;
  fixturesDir: string;
}

export type JobRequest =
  { id: number; kind: 'create'; input: CreateSandboxInput } | { id: number; kind: 'purge'; name: string };

export interface JobProgress {
  phase: string;
  done: number;
  total: number;
}

export type JobReply =
  | { id: number; progress: JobProgress }
  | { id: number; done: true }
  | { id: number; error: { status: number; issues: OutcomeIssue[] } };

/** Reports how far a job is: the phase ("building", "storing", "deleting") and a count. */
export type ProgressListener = (progress: JobProgress) => void;

interface Pending {
  resolve(): void;
  reject(error: unknown): void;
  onProgress?: ProgressListener;
}

/** The worker script (src/sandbox-worker.ts, one folder up): compiled JavaScript, or TypeScript run through tsx (tests). */
function workerScript(): { file: string; execArgv: string[] } {
  const compiled = path.join(__dirname, '..', 'sandbox-worker.js');
  if (existsSync(compiled)) return { file: compiled, execArgv: [] };
  return { file: path.join(__dirname, '..', 'sandbox-worker.ts'), execArgv: ['--require', 'tsx/cjs'] };
}

export class SandboxJobs {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly settings: WorkerSettings) {}

  create(input: CreateSandboxInput, onProgress?: ProgressListener): Promise<void> {
    return this.run({ id: this.nextId++, kind: 'create', input }, onProgress);
  }

  /** Deletes the rows of a sandbox that `Sandboxes.forget` removed, and gives the space back. */
  purge(name: string, onProgress?: ProgressListener): Promise<void> {
    return this.run({ id: this.nextId++, kind: 'purge', name }, onProgress);
  }

  /** Ends the worker once its queued jobs are done. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
  }

  private run(request: JobRequest, onProgress?: ProgressListener): Promise<void> {
    const worker = this.started();
    worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject, onProgress });
      worker.postMessage(request);
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const { file, execArgv } = workerScript();
    const worker = new Worker(file, { workerData: this.settings, execArgv });
    worker.on('message', (reply: JobReply) => {
      const job = this.pending.get(reply.id);
      if (!job) return;
      if ('progress' in reply) {
        job.onProgress?.(reply.progress);
        return;
      }
      this.pending.delete(reply.id);
      // an idle worker does not keep the process alive
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) job.reject(new FhirError(reply.error.status, reply.error.issues));
      else job.resolve();
    });
    const failAll = (error: unknown) => {
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) failAll(new Error(`the sandbox worker stopped (exit code ${code})`));
      else if (this.worker === worker) this.worker = undefined;
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

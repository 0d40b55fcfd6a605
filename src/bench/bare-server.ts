import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The yardstick of every load figure: a bare node:http server in its own process that answers every
 * request with the same status, content type and bytes Navet answered, read to the end first.
 */
export interface BareServer {
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

export interface SampleAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

export async function startBareServer(answer: SampleAnswer): Promise<BareServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'navet-bare-'));
  const file = path.join(dir, 'answer');
  writeFileSync(file, answer.body);
  const child: ChildProcess = spawn(process.execPath, [__filename, file, String(answer.status), answer.contentType], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', () => reject(new Error('the bare server did not start')));
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  const [file, status, contentType] = process.argv.slice(2);
  const body = readFileSync(file);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(Number(status), { 'content-type': contentType, 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

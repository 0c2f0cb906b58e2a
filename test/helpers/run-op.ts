import { spawn, type SpawnOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/...). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const OP = join(ROOT, 'bin/run.js');
export const FIXTURES = join(ROOT, 'fixtures');

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Fail the test instead of hanging forever. */
  timeoutMs?: number;
}

/** Runs `op ARGS…` as a user would, with `input` on stdin. */
export function runOp(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess(process.execPath, [OP, ...args], options);
}

export function runProcess(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  };
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, spawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${args.join(' ')}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status, signal });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input ?? '');
  });
}

/** Parses NDJSON output into values (tests compare values, not formatting). */
export function lines(stdout: string): unknown[] {
  return stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
}

export function ndjson(values: unknown[]): string {
  return values.map((value) => JSON.stringify(value) + '\n').join('');
}

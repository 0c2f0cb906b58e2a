import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { until as waitUntil } from '../helpers/poll-files.js';
import { FIXTURES, OP, ROOT } from '../helpers/run-op.js';

/**
 * Scratch space for watch tests: under the repository's ignored dist/ and not under /tmp,
 * because vim skips its backup-and-rename save for files matching 'backupskip' (/tmp/*).
 */
export function makeScratch(name: string): string {
  const dir = join(ROOT, 'dist', 'watch-scratch', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * After the last expected run, how long nothing more may happen before a test counts runs:
 * settle (200 ms) + debounce (50 ms) + a margin. Shorter only makes a test less sensitive to
 * an extra run, never flaky.
 */
export const QUIET_MS = 600;

/** The test COMMAND that logs each run to $RUN_LOG. */
export const RECORD_RUN = [process.execPath, join(FIXTURES, 'watch/record-run.mjs')];

export interface RunLine {
  path: string;
  pid: number;
  phase: 'start' | 'end';
  at: number;
  argv?: string[];
  event?: string;
  content?: string | null;
}

/** The NDJSON lines of a log file (none yet: none). */
export function readLines<T = RunLine>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

export { waitUntil };

/** A running `op watch`, its output as it comes, and a way to stop it. */
export class WatchProcess {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [OP, 'watch', ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, FORCE_COLOR: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('close', (status, signal) => resolve({ status, signal })));
  }

  /** Resolves once the first scan is done: files made from now on are new files. */
  ready(timeoutMs = 20_000): Promise<void> {
    return waitUntil(() => this.stderr.includes('op watch: watching'), `op watch to start; stderr: ${this.stderr}`, timeoutMs);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`, failing the test). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** A process that is running (not gone, not a zombie nobody reaped). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

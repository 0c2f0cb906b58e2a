import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until as waitUntil } from '../helpers/poll-files.js';
import { OP, ROOT } from '../helpers/run-op.js';

/** The host's own multi-node variables would change every rank: tests run without them. */
export const CLEAN_ENV: NodeJS.ProcessEnv = { FORCE_COLOR: '0', SLURM_NNODES: '', SLURM_NODEID: '', NNODES: '', NODE_RANK: '' };

/** A scratch directory under the repository's ignored dist/, unique to this test process. */
export function makeScratch(name: string): string {
  const dir = join(ROOT, 'dist', 'run-scratch', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A PATH with `op` on it, first, for workers that run op commands. */
export function pathWithOp(): string {
  const bin = join(ROOT, 'dist', 'run-scratch', `bin-${process.pid}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'op'), `#!/bin/sh\nexec "${process.execPath}" "${OP}" "$@"\n`);
  chmodSync(join(bin, 'op'), 0o755);
  return `${bin}:${process.env.PATH ?? ''}`;
}

export { waitUntil };

/** A running `op run`, its output as it comes, its exit. */
export class OpRun {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly started = Date.now();
  readonly exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; ms: number }>;

  constructor(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(process.execPath, [OP, 'run', ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...CLEAN_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('close', (status, signal) => resolve({ status, signal, ms: Date.now() - this.started })));
  }

  /** Waits for the exit, failing (and killing) after `timeoutMs`. */
  async result(timeoutMs = 30_000): Promise<{ status: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** `op run ARGS…` to the end. */
export function runOpRun(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string; status: number | null; ms: number }> {
  const run = new OpRun(args, options);
  return run.result(options.timeoutMs).then(({ status, ms }) => ({ stdout: run.stdout, stderr: run.stderr, status, ms }));
}

export interface RunEventLine {
  time: string;
  event: string;
  worker: number;
  generation: number;
  [field: string]: unknown;
}

/** The lines of an --events file (none yet: none). */
export function readEvents(file: string): RunEventLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RunEventLine);
}

/** Live (not zombie) processes whose command line holds `marker` as a whole argument. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.includes(marker) && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
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

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OP, runProcess, type RunResult } from '../helpers/run-op.js';

/** Rank variables of the machine running the tests must not leak into them. */
export const NO_RANK_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  ['OP_RANK', 'OP_WORLD_SIZE', 'SDRUN_RANK', 'SDRUN_WORLD_SIZE', 'RANK', 'WORLD_SIZE', 'SLURM_PROCID', 'SLURM_NTASKS', 'JOB_COMPLETION_INDEX'].map((name) => [name, '']),
);

let bin: string | undefined;

/** A directory holding an `op` that runs this checkout, for shell pipelines. */
function opBin(): string {
  if (bin !== undefined) return bin;
  bin = mkdtempSync(join(tmpdir(), 'opkit-bin-'));
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'op'), `#!/bin/sh\nexec "${process.execPath}" "${OP}" "$@"\n`);
  chmodSync(join(bin, 'op'), 0o755);
  return bin;
}

/** Runs a shell script with `op` on PATH, in `cwd`, with no rank variables set unless given. */
export function sh(script: string, cwd: string, options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return runProcess('/bin/sh', ['-c', script], {
    cwd,
    input: options.input ?? '',
    env: { ...NO_RANK_ENV, PATH: `${opBin()}:${process.env.PATH ?? ''}`, ...options.env },
  });
}

/** A scratch directory per suite; `files` are written into it. */
export function scratch(files: Record<string, string | Buffer> = {}): { dir: string; read(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return {
    dir,
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Deterministic records: ids, a repeating user key, some non-ASCII text, some without `user`. */
export function makeRecords(count: number): Array<Record<string, unknown>> {
  const names = ['ana', 'bo', 'chlo\u00e9', '\u65e5\u672c', 'dee', 'eli\u2028x'];
  return Array.from({ length: count }, (_, id) => (id % 17 === 5 ? { id, note: 'no user' } : { id, user: `u${(id * 7) % 23}`, name: names[id % names.length], score: (id * 37) % 101 }));
}

import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, OpRun, processesWith, removeScratch, waitUntil } from './op-run.js';

let markers = 0;
/** A sleep duration no other process uses: `sleep MARKER` sleeps ~300 s and can be found by it. */
const newMarker = (): string => `300.${process.pid}${++markers}`;

/**
 * Starts `op run` with `args` (MARKER in them), waits for `expected` marked processes,
 * kill -9s op run, and checks none is left 2 s later (the bound under test).
 */
async function killNine(args: (marker: string) => string[], expected: number, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const marker = newMarker();
  const run = new OpRun(args(marker), { env });
  // op run itself carries the marker in its arguments.
  const workers = (): number[] => processesWith(marker).filter((pid) => pid !== run.child.pid);
  try {
    await waitUntil(() => workers().length === expected, `${expected} marked processes to run`);
    run.child.kill('SIGKILL');
    await run.exited;
    const killed = Date.now();
    await waitUntil(() => workers().length === 0, 'every marked process to be gone', 2_000).catch(() => undefined);
    assert.equal(workers(), [], `processes left ${Date.now() - killed} ms after kill -9`);
  } finally {
    for (const pid of workers()) process.kill(pid, 'SIGKILL');
  }
}

/** sh with two sleeps in its group: fork clears the parent-death signal, so only group kills reach the sleeps. */
const withChildren = (marker: string): string[] => ['-w', '4', '--', 'sh', '-c', 'sleep "$1" & sleep "$1" & wait', 'sh', marker];

test('kill -9 of op run with 4 sleep workers: after 2 s no worker is left', async () => {
  await killNine((marker) => ['-w', '4', '--', 'sleep', marker], 4);
});

test('kill -9 of op run: what the workers started in their groups is gone too', async () => {
  await killNine(withChildren, 12);
});

test('without setpriv, the watchdog alone ends every worker group after kill -9', async () => {
  const dir = makeScratch('no-setpriv');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['sh', 'sleep']) symlinkSync(`/bin/${tool}`, join(bin, tool));
  try {
    await killNine(withChildren, 12, { PATH: bin });
  } finally {
    removeScratch(dir);
  }
});

test.run();

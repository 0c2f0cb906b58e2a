import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines } from '../helpers/run-op.js';
import { makeScratch, QUIET_MS, readLines, RECORD_RUN, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

/**
 * Starts a run of file.ndjson that lasts until it is released, changes the file twice during
 * it, gives op watch ample time to see the change (1.5 s, against settle + debounce of
 * 250 ms), releases the run, and returns what ran.
 */
async function changeDuringRun(onBusy: string, expected: { starts: number; ends: number }): Promise<{ starts: string[]; ends: number; stderr: string }> {
  const dir = makeScratch(`busy-${onBusy}`);
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const log = join(dir, 'runs.log');
  const release = join(dir, 'release');
  const file = join(inbox, 'file.ndjson');
  const watch = new WatchProcess([inbox, '--on-busy', onBusy, '--', ...RECORD_RUN], { env: { RUN_LOG: log, RUN_WAIT_FOR: release } });
  const count = (phase: string): number => readLines(log).filter((line) => line.phase === phase).length;
  try {
    await watch.ready();
    writeFileSync(file, '{"v":1}\n');
    await waitUntil(() => count('start') === 1, 'the first run to start');
    writeFileSync(file, '{"v":2}\n');
    writeFileSync(file, '{"v":3}\n');
    await sleep(1_500);
    writeFileSync(release, '');
    await waitUntil(() => count('start') === expected.starts && count('end') === expected.ends, `${expected.starts} runs, ${expected.ends} ended`);
    // A rerun would start right after the run it waited for.
    await sleep(QUIET_MS);
    const all = readLines(log);
    return { starts: all.filter((line) => line.phase === 'start').map((line) => line.content ?? ''), ends: count('end'), stderr: watch.stderr };
  } finally {
    await watch.stop();
    removeScratch(dir);
  }
}

test('--on-busy queue (default) / restart / skip: what a change during a run does', async () => {
  // The three run side by side: each waits mostly on its own clock.
  const [queue, restart, skip] = await Promise.all([
    changeDuringRun('queue', { starts: 2, ends: 2 }),
    changeDuringRun('restart', { starts: 2, ends: 1 }),
    changeDuringRun('skip', { starts: 1, ends: 1 }),
  ]);
  // queue: one rerun after the run, on the latest version, however many changes came.
  assert.equal(queue.starts, ['{"v":1}\n', '{"v":3}\n']);
  // restart: the run is stopped (it never ends on its own) and started on the latest version.
  assert.equal(restart.starts, ['{"v":1}\n', '{"v":3}\n']);
  assert.match(restart.stderr, /file\.ndjson: stopped, the file changed: starting again/);
  // skip: the changes are dropped.
  assert.equal(skip.starts, ['{"v":1}\n']);
});

test('a failed run is reported (status, duration, stderr tail), logged, recorded in the state and retried with --retries', async () => {
  const dir = makeScratch('retries');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const counter = join(dir, 'attempts');
  const state = join(dir, 'state.json');
  const runLog = join(dir, 'runs.ndjson');
  // Fails twice, then succeeds.
  const script = 'n=$(($(cat "$1" 2>/dev/null || echo 0) + 1)); echo $n > "$1"; echo "attempt $n: no luck" >&2; [ $n -ge 3 ]';
  const watch = new WatchProcess([inbox, '--retries', '2', '--retry-delay', '50', '--state', state, '--log', runLog, '--', 'sh', '-c', script, '_', counter]);
  try {
    await watch.ready();
    writeFileSync(join(inbox, 'job.ndjson'), '{}\n');
    await waitUntil(() => lines(safeRead(runLog)).length === 3, 'three attempts');
    const logged = lines(safeRead(runLog)) as Array<{ status: string; exitCode: number; attempt: number; stderr: string; ms: number; path: string }>;
    assert.equal(
      logged.map(({ status, exitCode, attempt, stderr }) => [status, exitCode, attempt, stderr]),
      [
        ['failed', 1, 1, 'attempt 1: no luck'],
        ['failed', 1, 2, 'attempt 2: no luck'],
        ['ok', 0, 3, 'attempt 3: no luck'],
      ],
    );
    assert.ok(logged.every(({ ms, path }) => ms >= 0 && path === join(inbox, 'job.ndjson')));
    // The log file and op's stderr are written in turn but read here through different paths:
    // the stderr pipe may lag behind the file.
    const lastReport = /job\.ndjson: exit 0 in \d+ ms\n {2}attempt 3: no luck\n/;
    await waitUntil(() => lastReport.test(watch.stderr), 'the last attempt on stderr');
    assert.match(watch.stderr, /job\.ndjson: exit 1 in \d+ ms \(attempt 1 of 3\)\n {2}attempt 1: no luck\n/);
    await waitUntil(() => safeRead(state).includes('"outcome": "ok"'), 'the state to say ok');
    const entry = Object.values((JSON.parse(safeRead(state)) as { files: Record<string, { outcome: string; attempts: number }> }).files)[0];
    assert.equal([entry?.outcome, entry?.attempts], ['ok', 3]);
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

test.run();

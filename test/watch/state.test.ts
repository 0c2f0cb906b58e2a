import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, makeScratch, QUIET_MS, readLines, RECORD_RUN, removeScratch, type RunLine, waitUntil, WatchProcess } from './watch-process.js';

interface StateDoc {
  files: Record<string, { path: string; outcome: string; event: string; exitCode?: number | null; attempts: number }>;
}

const readState = (file: string): StateDoc => JSON.parse(readFileSync(file, 'utf8')) as StateDoc;
const outcomes = (file: string): Record<string, string> =>
  Object.fromEntries(Object.values(readState(file).files).map((entry) => [entry.path.split('/').pop(), entry.outcome]));
const startsOf = (log: string, from = 0): RunLine[] => readLines(log).slice(from).filter((line) => line.phase === 'start');
const ended = (log: string, name: string, from = 0): boolean => readLines(log).slice(from).some((line) => line.phase === 'end' && line.path.endsWith(`/${name}`));

test('killed during a run, restarted with the same --state: the interrupted, failed, changed and new files run once; finished ones do not', async () => {
  const dir = makeScratch('state');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const state = join(dir, 'state.json');
  const log = join(dir, 'runs.log');
  writeFileSync(join(inbox, 'a.ndjson'), '{"a":1}\n');
  writeFileSync(join(inbox, 'b.ndjson'), '{"b":1}\n');
  writeFileSync(join(inbox, 'e.ndjson'), '{"e":1}\n');
  // No state file yet: every file there is new.
  const first = new WatchProcess([inbox, '--state', state, '--', ...RECORD_RUN], {
    env: { RUN_LOG: log, RUN_SLEEP_MS: '60000', RUN_SLEEP_IF: 'c.ndjson', RUN_EXIT: '3', RUN_FAIL_IF: 'e.ndjson' },
  });
  let orphan: number | undefined;
  try {
    await first.ready();
    await waitUntil(() => ['a.ndjson', 'b.ndjson', 'e.ndjson'].every((name) => ended(log, name)), 'a, b and e to run');
    writeFileSync(join(inbox, 'c.ndjson'), '{"c":1}\n');
    await waitUntil(() => startsOf(log).some((line) => line.path.endsWith('/c.ndjson')), 'the run of c to start');
    orphan = startsOf(log).find((line) => line.path.endsWith('/c.ndjson'))?.pid;
    await waitUntil(() => outcomes(state)['c.ndjson'] === 'running', 'c recorded as running');
    // A crash: no chance to record anything more.
    first.child.kill('SIGKILL');
  } finally {
    first.child.kill('SIGKILL');
    // The run of c leads its own process group, which outlives a SIGKILLed watcher (and holds
    // its stdout open, so the watcher's pipes close only once it is gone).
    if (orphan !== undefined) process.kill(-orphan, 'SIGKILL');
    await first.exited;
  }
  await waitUntil(() => orphan === undefined || !isAlive(orphan), 'the orphaned run to die');
  assert.equal(outcomes(state), { 'a.ndjson': 'ok', 'b.ndjson': 'ok', 'c.ndjson': 'running', 'e.ndjson': 'failed' });
  assert.is(readState(state).files[join(inbox, 'e.ndjson')]?.exitCode, 3);

  // While it is down: a new file, and a changed one.
  writeFileSync(join(inbox, 'd.ndjson'), '{"d":1}\n');
  writeFileSync(join(inbox, 'b.ndjson'), '{"b":2}\n');
  const before = readLines(log).length;
  const second = new WatchProcess([inbox, '--state', state, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await second.ready();
    assert.match(second.stderr, /5 files there, 4 to process/);
    await waitUntil(() => ['b.ndjson', 'c.ndjson', 'd.ndjson', 'e.ndjson'].every((name) => ended(log, name, before)), 'b, c, d and e to run again');
    await sleep(QUIET_MS);
    const again = startsOf(log, before).map((line) => [line.path.split('/').pop(), line.event, line.content]);
    assert.equal(again.sort(), [
      ['b.ndjson', 'change', '{"b":2}\n'],
      ['c.ndjson', 'add', '{"c":1}\n'],
      ['d.ndjson', 'add', '{"d":1}\n'],
      ['e.ndjson', 'add', '{"e":1}\n'],
    ]);
    await waitUntil(() => Object.values(outcomes(state)).every((outcome) => outcome === 'ok'), 'every outcome ok in the state');
    assert.is((await second.stop('SIGINT')).status, 130);
  } finally {
    second.child.kill('SIGKILL');
  }

  // And once more: nothing new, nothing runs.
  const third = new WatchProcess([inbox, '--state', state, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await third.ready();
    assert.match(third.stderr, /5 files there, 0 to process/);
  } finally {
    await third.stop();
  }
  removeScratch(dir);
});

test('--initial processes the files already there; without it (and without --state) they are not', async () => {
  const dir = makeScratch('initial');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  writeFileSync(join(inbox, 'old.ndjson'), '{}\n');
  const log = join(dir, 'runs.log');
  const plain = new WatchProcess([inbox, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await plain.ready();
    assert.match(plain.stderr, /1 file there, 0 to process/);
    writeFileSync(join(inbox, 'new.ndjson'), '{}\n');
    await waitUntil(() => ended(log, 'new.ndjson'), 'the new file to run');
    assert.equal(startsOf(log).map((line) => line.path), [join(inbox, 'new.ndjson')]);
  } finally {
    await plain.stop();
  }
  const initial = new WatchProcess([inbox, '--initial', '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await initial.ready();
    await waitUntil(() => startsOf(log).length === 3, 'both files to run');
    assert.equal(startsOf(log).slice(1).map((line) => line.path.split('/').pop()), ['new.ndjson', 'old.ndjson']);
  } finally {
    await initial.stop();
  }
  removeScratch(dir);
});

test.run();

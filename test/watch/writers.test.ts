import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, QUIET_MS, readLines, RECORD_RUN, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

test('a writer that keeps the file open and writes a line every 300 ms: one run, seeing all 5 lines', async () => {
  const dir = makeScratch('slow-writer');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const log = join(dir, 'runs.log');
  const watch = new WatchProcess([inbox, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await watch.ready();
    // The writer's pause (300 ms) is longer than --settle (200 ms): the size alone looks settled.
    const script = 'for k in 1 2 3 4 5; do echo "{\\"s\\":$k}"; sleep 0.3; done > "$1"';
    await new Promise((resolve, reject) => execFile('sh', ['-c', script, '_', join(inbox, 'slow.ndjson')], (error) => (error ? reject(error) : resolve(undefined))));
    await waitUntil(() => readLines(log).some((line) => line.phase === 'end'), 'the run');
    await sleep(QUIET_MS);
    const starts = readLines(log).filter((line) => line.phase === 'start');
    assert.is(starts.length, 1, `one run; runs saw: ${JSON.stringify(starts.map((line) => line.content))}`);
    assert.is(starts[0]?.content, '{"s":1}\n{"s":2}\n{"s":3}\n{"s":4}\n{"s":5}\n');
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('a file deleted while its run is due (held for its writer) is skipped: no run, no failure', async () => {
  const dir = makeScratch('deleted-when-due');
  const log = join(dir, 'runs.log');
  const watch = new WatchProcess([dir, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  try {
    await watch.ready();
    for (let k = 0; k < 3; k++) {
      const path = join(dir, `gone-${k}.ndjson`);
      const fd = openSync(path, 'w');
      writeSync(fd, '{"a":1}\n');
      // Settled (200 ms) and debounced (50 ms) long ago; only the open descriptor holds it back.
      await sleep(800);
      unlinkSync(path);
      closeSync(fd);
    }
    // A file that stays, so the test knows op watch has caught up.
    writeFileSync(join(dir, 'kept.ndjson'), '{"b":1}\n');
    await waitUntil(() => readLines(log).some((line) => line.phase === 'end'), 'the run of kept.ndjson');
    await sleep(QUIET_MS);
    assert.equal(readLines(log).filter((line) => line.phase === 'start').map((line) => line.path), [join(dir, 'kept.ndjson')]);
    assert.not.match(watch.stderr, /gone-|failed/);
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('--depth with symlinked directories (loop -> ., back -> DIR): one run per file; --follow-symlinks enters the others, once per inode', async () => {
  const dir = makeScratch('symlinks');
  const inbox = join(dir, 'in');
  const outside = join(dir, 'outside');
  mkdirSync(join(inbox, 'sub'), { recursive: true });
  mkdirSync(outside);
  symlinkSync('.', join(inbox, 'loop'));
  symlinkSync(inbox, join(inbox, 'sub', 'back'));
  symlinkSync(outside, join(inbox, 'ext'));
  // Two paths to one directory, neither a cycle.
  symlinkSync(outside, join(inbox, 'sub', 'ext2'));
  for (const follow of [false, true]) {
    const log = join(dir, `runs-${follow}.log`);
    const watch = new WatchProcess([inbox, '--depth', '3', ...(follow ? ['--follow-symlinks'] : []), '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
    try {
      await watch.ready();
      const names = [join(inbox, `one-${follow}.ndjson`), join(inbox, 'sub', `two-${follow}.ndjson`), join(outside, `three-${follow}.ndjson`)];
      for (const name of names) writeFileSync(name, '{"a":1}\n');
      const expected = follow ? 3 : 2;
      await waitUntil(() => readLines(log).filter((line) => line.phase === 'end').length >= expected, `${expected} runs`);
      await sleep(QUIET_MS);
      const paths = readLines(log).filter((line) => line.phase === 'start').map((line) => line.path);
      assert.is(paths.length, expected, `runs: ${JSON.stringify(paths)}`);
      assert.ok(paths.includes(names[0] as string) && paths.includes(names[1] as string), JSON.stringify(paths));
      if (follow) assert.ok(paths.some((path) => path.endsWith(`three-${follow}.ndjson`)), JSON.stringify(paths));
    } finally {
      await watch.stop();
    }
  }
  removeScratch(dir);
});

test.run();

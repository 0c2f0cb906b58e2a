import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, QUIET_MS, readLines, RECORD_RUN, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

test('200 files moved into the directory at once: exactly 200 runs, one per file', async () => {
  const dir = makeScratch('move-200');
  const inbox = join(dir, 'in');
  const staging = join(dir, 'staging');
  mkdirSync(inbox);
  mkdirSync(staging);
  const names = Array.from({ length: 200 }, (_, i) => `part-${String(i).padStart(3, '0')}.ndjson`);
  for (const name of names) writeFileSync(join(staging, name), `{"name":"${name}"}\n`);
  const log = join(dir, 'runs.log');
  const watch = new WatchProcess([inbox, '-c', '4', '--', 'sh', '-c', 'printf "%s\\n" "$1" >> "$2"', '_', '{path}', log]);
  try {
    await watch.ready();
    // One mv, 200 renames into the directory within a few milliseconds.
    execFileSync('sh', ['-c', 'mv "$1"/* "$2"/', '_', staging, inbox]);
    const runs = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line !== '') : []);
    await waitUntil(() => runs().length >= 200, `200 runs, got ${runs().length}`, 40_000);
    await sleep(QUIET_MS);
    const seen = runs();
    assert.is(seen.length, 200, 'runs');
    assert.equal([...new Set(seen)].sort(), names.map((name) => join(inbox, name)), 'one run per file');
    assert.is((await watch.stop()).status, 143);
  } finally {
    watch.child.kill('SIGKILL');
  }
  removeScratch(dir);
});

test('file names with spaces, quotes and unicode reach the command intact, as whole words', async () => {
  const dir = makeScratch('names');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const log = join(dir, 'runs.log');
  const names = ['with space.ndjson', `it's "quoted".ndjson`, 'ünï — 日本 🚀.ndjson', '$(touch pwned) `x` *.ndjson', 'back\\slash; $HOME.ndjson'];
  const watch = new WatchProcess([inbox, '--', ...RECORD_RUN, '{path}', '{name}', '{stem}', '{dir}', '{event}', 'pre-{stem}.out'], { env: { RUN_LOG: log } });
  try {
    await watch.ready();
    for (const name of names) writeFileSync(join(inbox, name), `{"name":${JSON.stringify(name)}}\n`);
    await waitUntil(() => readLines(log).filter((line) => line.phase === 'end').length >= names.length, 'a run per file');
    await sleep(QUIET_MS);
    const starts = readLines(log).filter((line) => line.phase === 'start');
    assert.is(starts.length, names.length);
    for (const name of names) {
      const path = join(inbox, name);
      const run = starts.find((line) => line.path === path);
      assert.ok(run, `a run for ${name}; runs: ${JSON.stringify(starts.map((line) => line.path))}`);
      const stem = name.slice(0, -'.ndjson'.length);
      assert.equal(run.argv, [path, name, stem, inbox, 'add', `pre-${stem}.out`]);
      assert.is(run.event, 'add');
      assert.is(run.content, `{"name":${JSON.stringify(name)}}\n`);
    }
    // Nothing went through a shell: no command in a name was run.
    assert.equal(readdirSync(inbox).sort(), [...names].sort());
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('without a placeholder the path is appended as the last argument', async () => {
  const dir = makeScratch('append-path');
  const log = join(dir, 'runs.log');
  const watch = new WatchProcess([dir, '--', ...RECORD_RUN, '--flag'], { env: { RUN_LOG: log } });
  try {
    await watch.ready();
    writeFileSync(join(dir, 'a b.jsonl'), '{}\n');
    await waitUntil(() => readLines(log).some((line) => line.phase === 'end'), 'a run');
    assert.equal(readLines(log)[0]?.argv, ['--flag', join(dir, 'a b.jsonl')]);
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('a file written slowly over 2 s: one run, after the last write, seeing all of it', async () => {
  const dir = makeScratch('slow-write');
  const log = join(dir, 'runs.log');
  // Writes every 100 ms; --settle 500 leaves the writer 5x its pace before the file counts.
  const watch = new WatchProcess([dir, '--settle', '500', '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  let lastWrite = 0;
  let content = '';
  try {
    await watch.ready();
    const fd = openSync(join(dir, 'slow.ndjson'), 'w');
    for (let i = 0; i < 20; i++) {
      const line = `{"i":${i}}\n`;
      writeSync(fd, line);
      content += line;
      lastWrite = Date.now();
      await sleep(100);
    }
    closeSync(fd);
    await waitUntil(() => readLines(log).some((line) => line.phase === 'end'), 'the run');
    await sleep(QUIET_MS);
    const starts = readLines(log).filter((line) => line.phase === 'start');
    assert.is(starts.length, 1, 'one run');
    assert.is(starts[0]?.content, content, 'the run saw the whole file');
    assert.ok((starts[0]?.at ?? 0) >= lastWrite, 'the run started after the last write');
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('rename-on-save, copy-in-place and mv into the directory: one run per resulting version', async () => {
  const dir = makeScratch('saves');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const log = join(dir, 'runs.log');
  const watch = new WatchProcess([inbox, '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  const ends = (): number => readLines(log).filter((line) => line.phase === 'end').length;
  try {
    await watch.ready();
    // mv from outside the directory.
    writeFileSync(join(dir, 'moved.ndjson'), '{"v":1}\n');
    renameSync(join(dir, 'moved.ndjson'), join(inbox, 'data.ndjson'));
    await waitUntil(() => ends() === 1, 'run 1');
    // Rename-on-save: write a temporary (a dotfile), rename it over the file.
    writeFileSync(join(inbox, '.data.ndjson.tmp'), '{"v":2}\n');
    renameSync(join(inbox, '.data.ndjson.tmp'), join(inbox, 'data.ndjson'));
    await waitUntil(() => ends() === 2, 'run 2');
    // Copy in place: cp truncates and rewrites the same inode.
    writeFileSync(join(dir, 'source.ndjson'), '{"v":3}\n');
    copyFileSync(join(dir, 'source.ndjson'), join(inbox, 'data.ndjson'));
    await waitUntil(() => ends() === 3, 'run 3');
    await sleep(QUIET_MS);
    const starts = readLines(log).filter((line) => line.phase === 'start');
    assert.equal(
      starts.map((line) => [line.event, line.content]),
      [
        ['add', '{"v":1}\n'],
        ['change', '{"v":2}\n'],
        ['change', '{"v":3}\n'],
      ],
    );
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test.run();

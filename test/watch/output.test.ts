import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines } from '../helpers/run-op.js';
import { makeScratch, QUIET_MS, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

interface FileEvent {
  event: string;
  path: string;
  size: number;
  mtime: string;
}

test('without COMMAND: one NDJSON event per file version; editor files, dotfiles and other extensions are ignored; --depth', async () => {
  const dir = makeScratch('events');
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  const watch = new WatchProcess([dir, '--depth', '1']);
  const events = (): FileEvent[] => lines(watch.stdout) as FileEvent[];
  try {
    await watch.ready();
    // Editor files, other extensions, and a file below --depth 1: none of them is an event.
    for (const name of ['.hidden.ndjson', 'x.ndjson~', 'x.ndjson.swp', '4913', 'notes.txt', 'sub/deeper/far.ndjson']) writeFileSync(join(dir, name), '{}\n');
    writeFileSync(join(dir, 'a.ndjson'), '{"a":1}\n');
    writeFileSync(join(dir, 'sub', 'b.jsonl'), '{"b":1}\n');
    await waitUntil(() => events().length >= 2, 'two events');
    writeFileSync(join(dir, 'a.ndjson'), '{"a":1}\n{"a":2}\n');
    await waitUntil(() => events().length >= 3, 'a third event');
    await sleep(QUIET_MS);
    const seen = events();
    assert.equal(
      seen.map(({ event, path, size }) => [event, path, size]).sort(),
      [
        ['add', join(dir, 'a.ndjson'), 8],
        ['add', join(dir, 'sub', 'b.jsonl'), 8],
        ['change', join(dir, 'a.ndjson'), 16],
      ].sort(),
    );
    for (const event of seen) assert.ok(!Number.isNaN(Date.parse(event.mtime)), 'mtime is a date');
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test('--records: a file appended to three times yields each record once; whole lines only; bad lines reported', async () => {
  const dir = makeScratch('records');
  const state = join(dir, 'state.json');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const file = join(inbox, 'log.ndjson');
  const watch = new WatchProcess([inbox, '--records', '--state', state]);
  const records = (): unknown[] => lines(watch.stdout);
  try {
    await watch.ready();
    writeFileSync(file, '{"n":1}\n{"n":2}\n');
    await waitUntil(() => records().length === 2, 'the new file');
    appendFileSync(file, '{"n":3}\n');
    await waitUntil(() => records().length === 3, 'append 1');
    // Half a line: it waits for the rest.
    appendFileSync(file, '{"n":4}\n{"n":');
    await waitUntil(() => records().length === 4, 'append 2');
    appendFileSync(file, '5}\nnot json\n{"n":6}\n');
    await waitUntil(() => records().length === 6, 'append 3');
    await sleep(QUIET_MS);
    assert.equal(records(), [1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    assert.match(watch.stderr, `op watch: ${file}:6: SyntaxError`);
  } finally {
    await watch.stop();
  }
  // Restarted with the same state: lines appended while it was down, and only those.
  appendFileSync(file, '{"n":7}\n');
  const again = new WatchProcess([inbox, '--records', '--state', state]);
  try {
    await again.ready();
    await waitUntil(() => lines(again.stdout).length === 1, 'the line appended while down');
    await sleep(QUIET_MS);
    assert.equal(lines(again.stdout), [{ n: 7 }]);
  } finally {
    await again.stop();
  }
  removeScratch(dir);
});

test('a closed stdout ends op watch quietly with status 0', async () => {
  const dir = makeScratch('epipe');
  const watch = new WatchProcess([dir]);
  try {
    await watch.ready();
    watch.child.stdout!.destroy();
    writeFileSync(join(dir, 'a.ndjson'), '{}\n');
    await sleep(500);
    writeFileSync(join(dir, 'b.ndjson'), '{}\n');
    const { status } = await Promise.race([watch.exited, sleep(20_000, undefined, { ref: false }).then(() => ({ status: -1 }))]);
    assert.is(status, 0);
  } finally {
    watch.child.kill('SIGKILL');
  }
  removeScratch(dir);
});

test.run();

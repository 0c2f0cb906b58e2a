import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/core/errors.js';
import { expandCommand, placeholdersFor } from '../../src/watch/expand-placeholders.js';
import { DEFAULT_MATCH, isEditorArtifact, PathFilter } from '../../src/watch/ignore-rules.js';
import { PathScheduler, type JobStatus, type Ticket } from '../../src/watch/path-scheduler.js';
import { positionAtEnd, streamNewRecords, type TailPosition } from '../../src/watch/records-tail.js';
import { StateFile } from '../../src/watch/state-file.js';
import { StderrTail } from '../../src/io/stderr-tail.js';
import { makeScratch, removeScratch } from './watch-process.js';

test('placeholders fill whole words or parts of words, never split them; no placeholder appends the path', () => {
  const values = placeholdersFor("in/a b 'c'.v1.ndjson", 'change');
  assert.equal(expandCommand(['tool', '{path}', '--name={name}', 'out/{stem}.json', '{dir}', '{event}', '{other}'], values), [
    'tool',
    "in/a b 'c'.v1.ndjson",
    "--name=a b 'c'.v1.ndjson",
    "out/a b 'c'.v1.json",
    'in',
    'change',
    '{other}',
  ]);
  assert.equal(expandCommand(['wc', '-l'], values), ['wc', '-l', "in/a b 'c'.v1.ndjson"]);
  // `$&` in a name is text, not a replacement pattern.
  assert.equal(expandCommand(['x', '{name}'], placeholdersFor('d/$&$1.json', 'add')), ['x', '$&$1.json']);
});

test('editor files: dotfiles, *~, *.sw?, vim 4913 probes', () => {
  for (const name of ['.x.ndjson.swp', '.#x', 'x.ndjson~', 'x.swp', 'x.swo', '4913', '5036', '5159']) assert.ok(isEditorArtifact(name), name);
  for (const name of ['x.ndjson', '4914', '5000', '123', 'swap.json', 'x.swpx']) assert.not.ok(isEditorArtifact(name), name);
});

test('PathFilter looks at the path relative to its DIR', () => {
  const filter = new PathFilter(['/data/.cache/in'], { match: [DEFAULT_MATCH], ignore: [/^done\//] }, ['/data/.cache/in/state.json']);
  assert.ok(filter.wants('/data/.cache/in/a.ndjson'), 'a dotted DIR is not a dotfile');
  assert.ok(filter.wants('/data/.cache/in/sub/a.jsonl'));
  assert.not.ok(filter.wants('/data/.cache/in/done/a.ndjson'), '--ignore');
  assert.not.ok(filter.wants('/data/.cache/in/.sub/a.ndjson'), 'inside a dot directory');
  assert.not.ok(filter.wants('/data/.cache/in/a.txt'), '--match');
  assert.not.ok(filter.wants('/data/.cache/in/state.json'), 'the state file');
  assert.not.ok(filter.wants('/data/elsewhere.ndjson'));
  assert.not.ok(filter.skips('/data/.cache/in'), 'DIR itself');
  assert.ok(filter.skips('/data/.cache/in/done'), 'an ignored directory is not descended into');
});

test('StateFile: atomic saves, coalesced; reloads; refuses a file that is not a state', async () => {
  const dir = makeScratch('state-file');
  const path = join(dir, 'state.json');
  const state = StateFile.load(path);
  for (let i = 0; i < 100; i++) state.set(`/f${i}`, { path: `f${i}`, size: i, mtimeMs: 1.5, ino: 7, event: 'add', outcome: 'ok', attempts: 1, at: 'now' });
  await state.flush();
  assert.equal(readdirSync(dir), ['state.json'], 'no temporary file left');
  const again = StateFile.load(path);
  assert.is(again.keys().length, 100);
  assert.equal(again.get('/f42'), { path: 'f42', size: 42, mtimeMs: 1.5, ino: 7, event: 'add', outcome: 'ok', attempts: 1, at: 'now' });
  writeFileSync(path, '{"files": 3');
  assert.throws(() => StateFile.load(path), (error: unknown) => error instanceof UsageError && /not an op watch state file/.test(error.message));
  assert.is(StateFile.load(join(dir, 'none.json')).keys().length, 0, 'no file yet: empty');
  assert.not.ok(existsSync(join(dir, 'none.json')), 'loading does not create it');
  removeScratch(dir);
});

test('streamNewRecords: whole lines from the last offset, each once; a replaced or truncated file starts over', async () => {
  const dir = makeScratch('tail');
  const file = join(dir, 'a.ndjson');
  const problems: string[] = [];
  const read = async (from: TailPosition | undefined): Promise<{ text: string; position: TailPosition }> => {
    let text = '';
    const { position } = await streamNewRecords(file, from, {
      records: (chunk) => {
        text += chunk;
        return undefined;
      },
      problem: (line, message) => void problems.push(`${line}: ${message}`),
    });
    return { text, position };
  };
  writeFileSync(file, '\ufeff{"a":1}\r\n\n{"a":2}\n{"a":');
  const one = await read(undefined);
  assert.is(one.text, '{"a":1}\n{"a":2}\n');
  assert.equal([one.position.offset, one.position.lines], [Buffer.byteLength('\ufeff{"a":1}\r\n\n{"a":2}\n'), 3]);
  appendFileSync(file, '3}\n[1,\n');
  const two = await read(one.position);
  assert.is(two.text, '{"a":3}\n');
  assert.is(problems.length, 1);
  assert.match(problems[0] ?? '', /^5: SyntaxError: /);
  const nothing = await read(two.position);
  assert.is(nothing.text, '');
  writeFileSync(file, '{"b":1}\n');
  assert.is((await read(two.position)).text, '{"b":1}\n', 'shorter than the offset: read again from the start');
  assert.equal(await positionAtEnd(file), { ino: two.position.ino, offset: 8, lines: 1 });
  removeScratch(dir);
});

test('StderrTail keeps the last lines in bounded memory', () => {
  const tail = new StderrTail();
  for (let i = 0; i < 10_000; i++) tail.push(Buffer.from(`line ${i}\n`));
  assert.is(tail.text(), Array.from({ length: 10 }, (_, k) => `line ${9990 + k}`).join('\n'));
  const short = new StderrTail();
  short.push(Buffer.from('only\n'));
  assert.is(short.text(), 'only');
});

test('PathScheduler: N paths at once, never one path twice at once, one rerun for many changes', async () => {
  const running = new Set<string>();
  let peak = 0;
  const runs: string[] = [];
  const job = async (ticket: Ticket): Promise<JobStatus> => {
    assert.not.ok(running.has(ticket.path), `${ticket.path} twice at once`);
    running.add(ticket.path);
    peak = Math.max(peak, running.size);
    runs.push(ticket.path);
    await sleep(30);
    running.delete(ticket.path);
    return 'ok';
  };
  const scheduler = new PathScheduler(job, { concurrency: 3, onBusy: 'queue', retries: 0, retryDelay: 0 });
  for (let i = 0; i < 9; i++) scheduler.offer(`p${i}`, 'add');
  await sleep(5);
  for (let i = 0; i < 5; i++) scheduler.offer('p0', 'change');
  await waitIdle(scheduler);
  assert.is(peak, 3);
  assert.is(runs.filter((path) => path === 'p0').length, 2, 'p0 ran, then once more');
  assert.is(runs.length, 10);
});

async function waitIdle(scheduler: PathScheduler): Promise<void> {
  while (scheduler.active > 0) await scheduler.whenIdle();
  await sleep(50);
  while (scheduler.active > 0) await scheduler.whenIdle();
}

test.run();

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, runOp } from '../helpers/run-op.js';
import { scratch } from '../shard/op-shell.js';

const work = scratch();
const path = (name: string): string => join(work.dir, name);
test.after(() => work.remove());

/** A large value, so a reader that saw a file half written would see it cut short. */
const big = (tag: string): unknown => ({ tag, items: Array.from({ length: 5000 }, (_, k) => `${tag}-${k}`) });
const HANDLER = '({n: r, tag: ctx.side.s.tag, items: ctx.side.s.items.length, v: ctx.sideVersion, w: ctx.workerId})';

interface Seen {
  n: number;
  tag: string;
  items: number;
  v: number;
  w: number;
}

/** op map over a pipe we feed, with its output lines and stderr as they come. */
function startOp(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcessWithoutNullStreams; seen: Seen[]; stderr: () => string; waitFor(test: () => boolean, ms?: number): Promise<void> } {
  const child = spawn(process.execPath, [OP, 'map', ...args, HANDLER], { cwd: work.dir, env: { ...process.env, FORCE_COLOR: '0', ...env } });
  const seen: Seen[] = [];
  let rest = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) seen.push(JSON.parse(line) as Seen);
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const waitFor = async (check: () => boolean, ms = 10_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms; stderr: ${err}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, seen, stderr: () => err, waitFor };
}

/** Writes the new version beside the file, then renames it over: readers see the old or the new, whole. */
function replaceByRename(name: string, text: string): void {
  writeFileSync(path(`${name}.tmp`), text);
  renameSync(path(`${name}.tmp`), path(name));
}

/** Sends one record at a time until one shows `tag`; returns the ms that took. */
async function sendUntil(op: ReturnType<typeof startOp>, tag: string, next: { n: number }): Promise<number> {
  const started = Date.now();
  for (;;) {
    const n = next.n++;
    op.child.stdin.write(`${n}\n`);
    await op.waitFor(() => op.seen.some((seen) => seen.n === n));
    if (op.seen.find((seen) => seen.n === n)!.tag === tag) return Date.now() - started;
    if (Date.now() - started > 5000) throw new Error(`no record saw ${tag}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a side file replaced by rename mid-run: later records see the new value within 1 s, never a half-written one', async () => {
  writeFileSync(path('s1.json'), JSON.stringify(big('old')));
  const op = startOp(['--side', 's=s1.json']);
  const next = { n: 0 };
  await sendUntil(op, 'old', next);
  replaceByRename('s1.json', JSON.stringify(big('new')));
  const ms = await sendUntil(op, 'new', next);
  assert.ok(ms < 1000, `the new value took ${ms} ms`);
  for (let k = 0; k < 5; k++) op.child.stdin.write(`${next.n++}\n`);
  op.child.stdin.end();
  await op.waitFor(() => op.child.exitCode !== null);
  assert.is(op.child.exitCode, 0, op.stderr());
  const swap = op.seen.findIndex((seen) => seen.tag === 'new');
  op.seen.forEach((seen, k) => {
    assert.is(seen.items, 5000, 'a whole value');
    assert.equal([seen.tag, seen.v], k < swap ? ['old', 1] : ['new', 2]);
  });
});

test('NDJSON is an array of its values; !CMD gives its stdout, parsed', async () => {
  writeFileSync(path('s2.ndjson'), '{"a":1}\n\n{"a":2}\n');
  const result = await runOp(['map', '--side', 's=s2.ndjson', '--side', 'n=!node -e "console.log(JSON.stringify({t: 7}))"', '--every', '1h', '[ctx.side, ctx.sideVersion]'], { cwd: work.dir, input: '1\n' });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, '[{"s":[{"a":1},{"a":2}],"n":{"t":7}},1]\n');
});

test('--side NAME=!CMD --every DURATION runs CMD again on that schedule', async () => {
  writeFileSync(path('count.mjs'), "import { readFileSync, writeFileSync } from 'node:fs';\nlet n = 0;\ntry { n = Number(readFileSync('count.txt', 'utf8')); } catch {}\nwriteFileSync('count.txt', String(n + 1));\nconsole.log(JSON.stringify({tag: 't' + n, items: []}));\n");
  const op = startOp(['--side', 's=!node count.mjs', '--every', '50ms']);
  const next = { n: 0 };
  await sendUntil(op, 't0', next);
  await sendUntil(op, 't2', next);
  op.child.stdin.end();
  await op.waitFor(() => op.child.exitCode !== null);
  assert.is(op.child.exitCode, 0, op.stderr());
  const versions = op.seen.map((seen) => seen.v);
  assert.equal(versions, [...versions].sort((a, b) => a - b));
  assert.ok(op.seen.every((seen) => seen.tag === `t${seen.v - 1}`));
});

test('a version that does not parse keeps the old value, with one warning naming the file and place', async () => {
  const next = { n: 0 };
  writeFileSync(path('s3.json'), JSON.stringify(big('old')));
  const live = startOp(['--side', 's=s3.json']);
  await sendUntil(live, 'old', next);
  replaceByRename('s3.json', '{"tag": "bad",\n  "items": [1, 2,]}\n');
  await live.waitFor(() => live.stderr().includes('warning'));
  await sendUntil(live, 'old', next);
  replaceByRename('s3.json', JSON.stringify(big('good')));
  await sendUntil(live, 'good', next);
  live.child.stdin.end();
  await live.waitFor(() => live.child.exitCode !== null);
  assert.is(live.child.exitCode, 0);
  const warnings = live.stderr().split('\n').filter((line) => line !== '');
  assert.is(warnings.length, 1, live.stderr());
  assert.is(warnings[0], "op map: warning: side input s: s3.json:2:18: SyntaxError: Unexpected token ']'; keeping version 1");
  assert.ok(live.seen.every((seen) => seen.tag !== 'bad'));
  assert.equal(live.seen.at(-1)!.v, 2);
});

test('-w 2: both workers switch to the new version', async () => {
  writeFileSync(path('s4.json'), JSON.stringify(big('old')));
  // 4 KiB tasks: each burst is cut into several, which both workers take.
  const op = startOp(['-w', '2', '--side', 's=s4.json'], { OP_CHUNK_BYTES: '4096' });
  let n = 0;
  const burst = async (): Promise<Seen[]> => {
    const from = n;
    const lines = Array.from({ length: 4000 }, () => `${n++}\n`).join('');
    op.child.stdin.write(lines);
    await op.waitFor(() => op.seen.length >= n);
    return op.seen.slice(from);
  };
  const workersWith = (seen: Seen[], tag: string): Set<number> => new Set(seen.filter((s) => s.tag === tag).map((s) => s.w));
  let before = new Set<number>();
  for (let k = 0; k < 20 && before.size < 2; k++) before = new Set([...before, ...workersWith(await burst(), 'old')]);
  assert.equal([...before].sort(), [1, 2], 'both workers ran records');
  replaceByRename('s4.json', JSON.stringify(big('new')));
  const renamed = Date.now();
  let after = new Set<number>();
  let firstNew: number | undefined;
  for (let k = 0; k < 50 && after.size < 2; k++) {
    const seen = await burst();
    if (seen.some((s) => s.tag === 'new')) firstNew ??= Date.now() - renamed;
    after = new Set([...after, ...workersWith(seen, 'new')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  op.child.stdin.end();
  await op.waitFor(() => op.child.exitCode !== null);
  assert.is(op.child.exitCode, 0, op.stderr());
  const tags = [1, 2].map((w) => op.seen.filter((s) => s.w === w).map((s) => s.tag).join(' ').replace(/(\w+)( \1)*/g, (m, t) => `${t}×${m.split(' ').length}`));
  assert.equal([...after].sort(), [1, 2], `both workers saw the new version: ${tags.join(' | ')}`);
  assert.ok(firstNew !== undefined && firstNew < 1000, `the new value took ${firstNew} ms`);
  // Once a worker saw the new version, none of its later records sees the old one.
  for (const w of [1, 2]) {
    const mine = op.seen.filter((s) => s.w === w);
    const swap = mine.findIndex((s) => s.tag === 'new');
    assert.ok(mine.slice(swap).every((s) => s.tag === 'new' && s.v === 2 && s.items === 5000));
  }
});

test('--side is checked before input: a bad spec, a missing file, !CMD without --every', async () => {
  const bad = await runOp(['map', '--side', 'nope', 'r'], { cwd: work.dir, input: '1\n' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, '--side takes NAME=FILE or NAME=!CMD, got "nope"');
  const missing = await runOp(['map', '--side', 's=missing.json', 'r'], { cwd: work.dir, input: '1\n' });
  assert.is(missing.status, 2);
  assert.match(missing.stderr, 'op map: --side s: missing.json: no such file');
  const noEvery = await runOp(['map', '--side', 's=!echo 1', 'r'], { cwd: work.dir, input: '1\n' });
  assert.is(noEvery.status, 2);
  assert.match(noEvery.stderr, '--side NAME=!CMD needs --every DURATION');
});

test.run();

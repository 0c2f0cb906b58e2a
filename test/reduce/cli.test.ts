import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';

type Row = Record<string, unknown>;

/** A deterministic generator (an LCG), so every run sees the same records. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const scratch = mkdtempSync(join(tmpdir(), `opkit-reduce-${process.pid}-`));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('sum and count by key match Miller stats1 over 50,000 records', async () => {
  const rand = random(7);
  const records = Array.from({ length: 50_000 }, (_, i) => ({ id: i, user: `user-${Math.floor(rand() * 2000)}`, score: Math.round(rand() * 1e6) / 1e3 }));
  const file = join(scratch, 'miller.ndjson');
  writeFileSync(file, ndjson(records));
  const ours = await runOp(['reduce', '--key', 'user', '--agg', 'sum:score,count', '--in', file]);
  assert.is(ours.status, 0, ours.stderr);
  let theirs: string;
  try {
    theirs = execFileSync('mlr', ['--ijsonl', '--ojsonl', 'stats1', '-a', 'sum,count', '-f', 'score', '-g', 'user', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (error) {
    throw new Error(`Miller (mlr) is needed for this test; .ci/run installs it: ${(error as Error).message}`);
  }
  const mine = (lines(ours.stdout) as Row[]).map((r) => [(r.key as Row).user, r.sum_score, r.count] as [string, number, number]);
  const miller = (lines(theirs) as Row[]).map((r) => [r.user, r.score_sum, r.score_count] as [string, number, number]);
  const byUser = (a: [string, number, number], b: [string, number, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  mine.sort(byUser);
  miller.sort(byUser);
  assert.is(mine.length, miller.length);
  assert.ok(mine.length > 1900);
  for (let k = 0; k < mine.length; k++) {
    const [user, sum, count] = mine[k]!;
    const [muser, msum, mcount] = miller[k]!;
    assert.is(user, muser);
    assert.is(count, mcount, `count of ${user}`);
    // Both add in input order; only the printed digits may differ.
    assert.ok(Math.abs(sum - msum) <= 1e-9 * Math.max(1, Math.abs(msum)), `sum of ${user}: ${sum} vs ${msum}`);
  }
  // Without a window, groups come in the order their keys first appeared.
  const firstSeen = [...new Set(records.map((r) => r.user))];
  assert.equal((lines(ours.stdout) as Row[]).map((r) => (r.key as Row).user), firstSeen);
});

/** Event-time records for three users, one every 250 ms over 10 minutes. */
function timedRecords(): Array<{ user: string; ts: number; n: number }> {
  const t0 = Date.UTC(2024, 0, 1);
  return Array.from({ length: 2400 }, (_, i) => ({ user: ['ann', 'bob', 'cy'][i % 3]!, ts: t0 + i * 250, n: i }));
}

const sortWindows = (rows: Row[]): Row[] =>
  rows.slice().sort((a, b) => (a.window as { start: number }).start - (b.window as { start: number }).start || String((a.key as Row).user).localeCompare(String((b.key as Row).user)));

test('out-of-order events within --lateness give the result of the sorted input; later ones are late', async () => {
  const sorted = timedRecords();
  const rand = random(11);
  // Each record arrives as if delayed by up to 30 s (less 1 ms): it is never behind a record more than 30 s newer.
  const shuffled = sorted.map((r) => ({ r, at: r.ts + Math.floor(rand() * 29_999) })).sort((a, b) => a.at - b.at).map(({ r }) => r);
  assert.not.equal(shuffled.slice(0, 50), sorted.slice(0, 50));
  const args = ['reduce', '--key', 'user', '--agg', 'count,sum:n,min:n,max:n', '--window', 'tumbling:1m', '--time', 'ts', '--lateness', '30s', '--stats'];
  const inOrder = await runOp(args, { input: ndjson(sorted) });
  const outOfOrder = await runOp(args, { input: ndjson(shuffled) });
  assert.is(outOfOrder.status, 0, outOfOrder.stderr);
  // Windows come out by end; within one, keys in the order they first appeared, which shuffling changes.
  assert.equal(sortWindows(lines(outOfOrder.stdout) as Row[]), sortWindows(lines(inOrder.stdout) as Row[]));
  assert.is(lines(inOrder.stdout).length, 30);
  assert.is((JSON.parse(outOfOrder.stderr) as Row).late, 0);

  // Two records 2 minutes behind the newest: their windows have closed.
  const t0 = sorted[0]!.ts;
  const late = [...shuffled.slice(0, 1200), { user: 'ann', ts: t0 + 1000, n: -1 }, { user: 'bob', ts: t0 + 2000, n: -2 }, ...shuffled.slice(1200)];
  const errors = join(scratch, 'late.ndjson');
  const withLate = await runOp([...args, '--errors', errors], { input: ndjson(late) });
  assert.is(withLate.status, 3, withLate.stderr);
  assert.equal(sortWindows(lines(withLate.stdout) as Row[]), sortWindows(lines(inOrder.stdout) as Row[]));
  const stats = JSON.parse(withLate.stderr) as Row;
  assert.equal([stats.late, stats.errors, stats.in], [2, 2, 2402]);
  const dead = lines(readFileSync(errors, 'utf8')) as Row[];
  assert.equal(dead.map((d) => [d.stage, (d.input as Row).n, (d.error as Row).name]), [['late', -1, 'LateRecord'], ['late', -2, 'LateRecord']]);

  const dropped = await runOp([...args, '--late', 'drop'], { input: ndjson(late) });
  assert.is(dropped.status, 0);
  assert.equal(sortWindows(lines(dropped.stdout) as Row[]), sortWindows(lines(inOrder.stdout) as Row[]));
  assert.equal([(JSON.parse(dropped.stderr) as Row).late, (JSON.parse(dropped.stderr) as Row).dropped], [2, 2]);

  // --late reopen: each late record reopens its window, which closes again at once.
  const reopened = await runOp([...args, '--late', 'reopen'], { input: ndjson(late) });
  const extra = (lines(reopened.stdout) as Row[]).filter((r) => (r.min_n as number) < 0);
  assert.equal(extra.map((r) => [(r.key as Row).user, r.count, r.sum_n]), [['ann', 1, -1], ['bob', 1, -2]]);
  assert.is(lines(reopened.stdout).length, 32);
});

test('a late record without --errors stops the run, naming the ways to keep it', async () => {
  const t0 = Date.UTC(2024, 0, 1);
  const input = ndjson([{ u: 'a', ts: t0 + 120_000 }, { u: 'a', ts: t0 }]);
  const result = await runOp(['reduce', '-k', 'u', '--agg', 'count', '--window', 'tumbling:1m', '--time', 'ts'], { input });
  assert.is(result.status, 1);
  assert.match(result.stderr, /^op reduce: stdin:2: LateRecord: event time 2024-01-01T00:00:00.000Z is behind the watermark 2024-01-01T00:02:00.000Z; keep late records with --errors FILE, or use --late drop or --late reopen\n/);
});

test('sessions close after the gap; a record inside the gap extends the session', async () => {
  const t0 = Date.UTC(2024, 0, 1);
  const s = 1000;
  const input = ndjson([
    { u: 'a', ts: t0 },
    { u: 'b', ts: t0 + 5 * s },
    { u: 'a', ts: t0 + 15 * s }, // inside a's 20 s gap: extends it
    { u: 'a', ts: t0 + 30 * s }, // 15 s after the last: extends it again
    { u: 'b', ts: t0 + 40 * s }, // 35 s after b's first: a new session
    { u: 'a', ts: t0 + 51 * s }, // 21 s after a's last: a new session
  ]);
  const result = await runOp(['reduce', '-k', 'u', '--agg', 'count', '--window', 'session:20s', '--time', 'ts'], { input });
  assert.is(result.status, 0, result.stderr);
  assert.equal(
    (lines(result.stdout) as Row[]).map((r) => [(r.key as Row).u, ((r.window as Row).start as number) - t0, ((r.window as Row).end as number) - t0, r.count]),
    [
      ['b', 5 * s, 25 * s, 1],
      ['a', 0, 50 * s, 3],
      ['b', 40 * s, 60 * s, 1],
      ['a', 51 * s, 71 * s, 1],
    ],
  );
});

test('a record that bridges two sessions of a key merges them', async () => {
  const t0 = Date.UTC(2024, 0, 1);
  const input = ndjson([{ u: 'a', ts: t0, n: 1 }, { u: 'a', ts: t0 + 30_000, n: 2 }, { u: 'a', ts: t0 + 15_000, n: 3 }]);
  const result = await runOp(['reduce', '-k', 'u', '--agg', 'count,collect:n', '--window', 'session:20s', '--time', 'ts', '--lateness', '1m'], { input });
  assert.equal(lines(result.stdout), [{ key: { u: 'a' }, window: { start: t0, end: t0 + 50_000 }, count: 3, collect_n: [1, 2, 3] }]);
});

test('spilling to disk under a small --max-memory gives the same result, in the same order', async () => {
  const rand = random(3);
  const records = Array.from({ length: 30_000 }, (_, i) => ({ k: `key-${Math.floor(rand() * 5000)}`, v: { x: i % 97 }, s: rand() > 0.5 ? 'x' : 'y' }));
  const input = ndjson(records);
  const agg = ['--agg', 'count,sum:v.x,mean:v.x,min:v.x,max:s,first:v.x,last:v.x,distinct:s,collect:v.x'];
  const whole = await runOp(['reduce', '-k', 'k', ...agg, '--stats'], { input });
  const spilled = await runOp(['reduce', '-k', 'k', ...agg, '--stats', '--max-memory', '256KiB', '--spill-dir', scratch], { input });
  assert.is(spilled.status, 0, spilled.stderr);
  assert.is(spilled.stdout, whole.stdout);
  assert.is((JSON.parse(whole.stderr) as Row).spills, 0);
  assert.ok(((JSON.parse(spilled.stderr) as Row).spills as number) > 3, spilled.stderr);

  const handler = ['--init', '({n: 0, t: 0})', '--step', '(a, r) => ({n: a.n + 1, t: a.t + r.v.x})', '--merge', '(a, b) => ({n: a.n + b.n, t: a.t + b.t})'];
  const small = await runOp(['reduce', '-k', 'k', ...handler, '--max-memory', '256KiB', '--spill-dir', scratch], { input });
  assert.is(small.status, 0, small.stderr);
  assert.equal(
    (lines(small.stdout) as Row[]).map((r) => [r.key, (r.value as Row).n, (r.value as Row).t]),
    (lines(whole.stdout) as Row[]).map((r) => [r.key, r.count, r['sum_v.x']]),
  );

  const noMerge = await runOp(['reduce', '-k', 'k', '--init', '0', '--step', 'acc + 1', '--max-memory', '256KiB'], { input });
  assert.is(noMerge.status, 1);
  assert.match(noMerge.stderr, /--merge/);
  assert.is(noMerge.stdout, '');
});

test('count windows close per key every N records', async () => {
  const input = ndjson([1, 2, 3, 4, 5, 6, 7].map((n) => ({ k: n % 2 ? 'odd' : 'even', n })));
  const result = await runOp(['reduce', '-k', 'k', '--agg', 'collect:n', '--window', 'count:2'], { input });
  assert.equal(lines(result.stdout), [
    { key: { k: 'odd' }, window: { start: 0, end: 3 }, collect_n: [1, 3] },
    { key: { k: 'even' }, window: { start: 1, end: 4 }, collect_n: [2, 4] },
    { key: { k: 'odd' }, window: { start: 4, end: 7 }, collect_n: [5, 7] },
    { key: { k: 'even' }, window: { start: 5, end: 6 }, collect_n: [6] },
  ]);
});

test('a handler step that fails is retried, then dead-lettered; the group keeps the other records', async () => {
  const step = 'async (acc, r, ctx) => { if (r.n === 2 && ctx.attempt < 3) throw new Error("flaky"); if (r.n === 3) throw new Error("bad"); return acc + r.n }';
  const errors = join(scratch, 'handler-errors.ndjson');
  const input = ndjson([{ k: 'a', n: 1 }, { k: 'a', n: 2 }, { k: 'a', n: 3 }, { k: 'b', n: 3 }, { k: 'a', n: 4 }]);
  const result = await runOp(['reduce', '-k', 'k', '--init', '0', '--step', step, '--retries', '2', '--retry-delay', '0', '--errors', errors, '--stats'], { input });
  assert.is(result.status, 3, result.stderr);
  assert.equal(lines(result.stdout), [{ key: { k: 'a' }, value: 7 }]);
  const dead = lines(readFileSync(errors, 'utf8')) as Row[];
  assert.equal(dead.map((d) => [d.line, d.stage, d.attempts, (d.error as Row).message]), [[3, 'reduce', 3, 'bad'], [4, 'reduce', 3, 'bad']]);
  const stats = JSON.parse(result.stderr) as Row;
  assert.equal([stats.in, stats.out, stats.errors, stats.retries], [5, 1, 2, 6]);
});

test('--timeout fails a slow async step', async () => {
  const result = await runOp(['reduce', '-k', 'k', '--step', 'async (acc, r) => new Promise(() => {})', '--timeout', '50'], { input: '{"k":1}\n' });
  assert.is(result.status, 1);
  assert.match(result.stderr, /stdin:1: TimeoutError: timed out after 50 ms/);
});

test('a module exports init, step, merge and final; --config reaches ctx.config', async () => {
  const mod = join(scratch, 'top.mjs');
  writeFileSync(
    mod,
    `export const init = () => ({});
export function step(acc, r, ctx) { acc[r.page] = (acc[r.page] ?? 0) + ctx.config.weight; return acc; }
export function merge(a, b) { for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v; return a; }
export function final(acc, key) { return { user: key.user, top: Object.entries(acc).sort((x, y) => y[1] - x[1])[0][0] }; }
`,
  );
  const input = ndjson([{ user: 'ann', page: 'a' }, { user: 'ann', page: 'b' }, { user: 'ann', page: 'b' }, { user: 'bob', page: 'c' }]);
  const result = await runOp(['reduce', '-k', 'user', mod, '--config', '{"weight":2}'], { input });
  assert.is(result.status, 0, result.stderr);
  assert.equal(lines(result.stdout), [
    { key: { user: 'ann' }, value: { user: 'ann', top: 'b' } },
    { key: { user: 'bob' }, value: { user: 'bob', top: 'c' } },
  ]);
});

test.run();

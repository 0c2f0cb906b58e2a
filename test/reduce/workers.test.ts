import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashText } from '../../src/core/key-hash.js';
import { ByteKeyRouter } from '../../src/reduce/route-bytes.js';
import { KeyRouter, scanField } from '../../src/reduce/route-key.js';
import { OP, lines, ndjson, runOp } from '../helpers/run-op.js';

type Row = Record<string, unknown>;

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

test('the key scan finds top-level values and skips nested ones and strings', () => {
  const line = '{"a":{"user":"no"},"s":"x\\"user\\":1","user" : "ann","n":[1,{"user":2}]}';
  assert.is(scanField(line, 'user'), '"ann"');
  assert.is(scanField(line, 'n'), '[1,{"user":2}]');
  assert.is(scanField('{"n":-1.5e3}', 'n'), '-1.5e3');
  assert.is(scanField('{"x":1}', 'user'), undefined);
  assert.is(scanField('[1,2]', 'user'), undefined);
  assert.is(scanField('{"user":', 'user'), null);
  assert.is(scanField('{"\\u0075ser":"ann"}', 'user'), '"ann"');
  assert.is(scanField('{"username":"x","use":1,"user":"y"}', 'user'), '"y"');
});

test('records route by the hash of op shard --by key', () => {
  const router = new KeyRouter(['user'], 4);
  assert.is(router.workerOf('{"user":"a"}'), 0xe40c292c % 4);
  assert.is(router.workerOf('{"user":42}'), 0x87e38583 % 4);
  assert.is(router.workerOf('{"user":"42"}'), router.workerOf('{"user":42.0}'));
  assert.is(router.workerOf('{"user":"\\u0061"}'), router.workerOf('{"user":"a"}'));
  // A missing field groups, and so routes, as null.
  assert.is(router.workerOf('{"x":1}'), hashText('null') % 4);
  assert.is(router.workerOf('{"user":null}'), hashText('null') % 4);
  assert.is(new KeyRouter(['geo.cc'], 4).workerOf('{"geo":{"cc":"a"}}'), 0xe40c292c % 4);
});

test('the byte scan routes every line as the text scan does', () => {
  const samples = [
    '{"user":"a"}',
    '{"user":42}',
    '{"user":42.0}',
    '{"user":"\\u0061"}',
    '{"user":"é"}',
    '{"x":{"user":1},"user":"b"}',
    '{"\\u0075ser":"c"}',
    '{"user":null}',
    '{"x":1}',
    '[1]',
    ' { "user" : [1, {"a": "}"}] }',
    '{"user":',
    '{"user":"a","team":7}',
    '{"team":"7","user":"a"}',
  ];
  for (const fields of [['user'], ['user', 'team']]) {
    for (const workers of [2, 3, 7]) {
      const bytes = new ByteKeyRouter(fields, workers);
      const text = new KeyRouter(fields, workers);
      for (const line of samples) {
        const buf = Buffer.from(`xx${line}yy`);
        assert.is(bytes.workerOf(buf, 2, buf.length - 2), text.workerOf(line), `${fields} ${workers} ${line}`);
      }
    }
  }
});

test('-w 2 reads BOM, CRLF, blank lines, a missing final newline and invalid UTF-8 as inline does', async () => {
  const input = Buffer.concat([
    Buffer.from('\ufeff{"k":"a","n":1}\r\n\r\n   \n{"k":"b","n":2}\n{"k":"'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('","n":3}\n{"k":"a","n":4}'),
  ]);
  const args = ['reduce', '-k', 'k', '--agg', 'sum:n', '--errors', '/dev/stderr', '--stats'];
  const inline = await runOp(args, { input });
  const pooled = await runOp([...args, '-w', '2'], { input });
  assert.is(pooled.status, 3, pooled.stderr);
  assert.equal(sortRows(lines(pooled.stdout) as Row[]), sortRows(lines(inline.stdout) as Row[]));
  assert.equal(sortRows(lines(inline.stdout) as Row[]), [{ key: { k: 'a' }, sum_n: 5 }, { key: { k: 'b' }, sum_n: 2 }]);
  const dead = (text: string) => (lines(text) as Row[]).filter((d) => d.stage).map((d) => [d.line, d.stage]);
  assert.equal(dead(pooled.stderr), dead(inline.stderr));
  assert.equal(dead(pooled.stderr), [[5, 'decode']]);
});

test('-w 2 reads a regular file by descriptor as inline reads it: across reads, a line longer than a read, BOM, CRLF, no final newline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-reduce-file-'));
  try {
    const long = JSON.stringify({ k: 'long', n: 7, pad: 'x'.repeat(1_500_000) });
    const many = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ k: `k${i % 97}`, n: i % 5, pad: 'y'.repeat(i % 61) })).join('\r\n');
    const input = Buffer.concat([Buffer.from('\ufeff'), Buffer.from(`${many}\n${long}\n\n{"k":"`), Buffer.from([0xff]), Buffer.from(`","n":1}\n${many}`)]);
    assert.ok(input.length > 3 * (1 << 20), 'several reads');
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, input);
    const args = ['reduce', '-k', 'k', '--agg', 'count,sum:n', '--errors', '/dev/stderr', '--stats'];
    const inline = await runOp(args, { input });
    const named = await runOp([...args, '-w', '2', '--in', file]);
    // stdin redirected from the file, as `op reduce < FILE` gives it.
    const fd = openSync(file, 'r');
    const redirected = spawnSync(process.execPath, [OP, ...args, '-w', '2'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    const dead = (text: string) => (lines(text) as Row[]).filter((d) => d.stage).map((d) => [d.line, d.stage]);
    const stats = (text: string) => (lines(text) as Row[]).find((d) => d.in !== undefined);
    for (const [name, run] of [['--in FILE', named], ['< FILE', { status: redirected.status, stdout: redirected.stdout, stderr: redirected.stderr }]] as const) {
      assert.is(run.status, 3, `${name}: ${run.stderr}`);
      assert.equal(sortRows(lines(run.stdout) as Row[]), sortRows(lines(inline.stdout) as Row[]), name);
      assert.equal(dead(run.stderr), dead(inline.stderr), name);
      assert.equal([stats(run.stderr)?.in, stats(run.stderr)?.errors], [60_002, 1], name);
    }
    assert.equal(dead(inline.stderr), [[30_003, 'decode']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-w 2 reads a file with lines several reads long whole, byte for byte, as inline does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-reduce-long-'));
  try {
    const long = (k: string, size: number, n: number) => JSON.stringify({ k, pad: Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''), n });
    const small = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ k: `s${i % 7}`, pad: 'z', n: i })).join('\n');
    const input = `${small}\n${long('a', 3_500_000, 1)}\n${small}\n${long('b', 2_200_000, 2)}\n${long('a', 1_100_000, 3)}\n${small}`;
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, input);
    const args = ['reduce', '-k', 'k', '--agg', 'count,sum:n,last:pad'];
    const inline = await runOp(args, { input });
    const pooled = await runOp([...args, '-w', '2', '--in', file]);
    assert.is(pooled.status, 0, pooled.stderr);
    assert.equal(sortRows(lines(pooled.stdout) as Row[]), sortRows(lines(inline.stdout) as Row[]));
    assert.is((lines(inline.stdout) as Row[]).find((row) => (row.key as Row).k === 'b')?.last_pad?.toString().length, 2_200_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-w 2: a read stays whole until every worker has reduced it, when one worker is much slower than the other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-reduce-slow-'));
  try {
    // "a" and "b" hash to different workers; "b"'s steps are slow, so the other worker acks each read long before it.
    assert.not.equal(hashText('a') % 2, hashText('b') % 2);
    const pad = 'x'.repeat(100_000);
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, Array.from({ length: 300 }, (_, n) => `${JSON.stringify({ k: n % 2 ? 'b' : 'a', n, pad })}\n`).join(''));
    const step = '(acc, r) => { if (r.k === "b") { const t = Date.now(); while (Date.now() - t < 3); } return acc + r.n; }';
    const run = await runOp(['reduce', '-k', 'k', '--init', '0', '--step', step, '-w', '2', '--in', file]);
    assert.is(run.status, 0, run.stderr);
    // Sums of the even and the odd numbers below 300.
    assert.equal(sortRows(lines(run.stdout) as Row[]), [{ key: { k: 'a' }, value: 22350 }, { key: { k: 'b' }, value: 22500 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const rand = random(5);
const records = Array.from({ length: 20_000 }, (_, i) => ({ user: `u${Math.floor(rand() * 700)}`, team: rand() > 0.5 ? 1 : 'x', score: i % 13, geo: { cc: `c${i % 9}` } }));
const input = ndjson(records);
const sortRows = (rows: Row[]): Row[] => rows.slice().sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));

for (const key of ['user', 'user,team', 'geo.cc']) {
  test(`-w 2 and -w 3 give the inline groups (--key ${key}), worker by worker`, async () => {
    const agg = ['--agg', 'count,sum:score,first:score,last:score,collect:score'];
    const inline = await runOp(['reduce', '-k', key, ...agg], { input });
    for (const w of ['2', '3']) {
      const pooled = await runOp(['reduce', '-k', key, ...agg, '-w', w, '--stats'], { input });
      assert.is(pooled.status, 0, pooled.stderr);
      const rows = lines(pooled.stdout) as Row[];
      assert.equal(sortRows(rows), sortRows(lines(inline.stdout) as Row[]));
      const stats = JSON.parse(pooled.stderr) as Row;
      assert.equal([stats.in, stats.out], [20_000, rows.length]);
      // Each worker's groups in first-appearance order: the inline order, filtered.
      const inlineOrder = (lines(inline.stdout) as Row[]).map((r) => JSON.stringify(r.key));
      let at = -1;
      let runs = 1;
      for (const row of rows) {
        const next = inlineOrder.indexOf(JSON.stringify(row.key));
        if (next < at) runs++;
        at = next;
      }
      assert.ok(runs <= Number(w), `${runs} ascending runs for ${w} workers`);
    }
  });
}

test('-w 2: bad lines and failed records are dead-lettered with their places; without --errors the run stops', async () => {
  const bad = '{"user":"a","score":1}\nnot json\n{"user":"b","score":"x"}\n{"user":"a","score":2}\n';
  const kept = await runOp(['reduce', '-k', 'user', '--agg', 'sum:score', '-w', '2', '--errors', '/dev/stderr'], { input: bad });
  assert.is(kept.status, 3);
  assert.equal(lines(kept.stdout), [{ key: { user: 'a' }, sum_score: 3 }]);
  assert.equal((lines(kept.stderr) as Row[]).map((d) => [d.line, d.stage]).sort(), [[2, 'parse'], [3, 'reduce']]);
  const stopped = await runOp(['reduce', '-k', 'user', '--agg', 'sum:score', '-w', '2'], { input: bad });
  assert.is(stopped.status, 1);
  assert.match(stopped.stderr, /^op reduce: stdin:(2: SyntaxError|3: TypeError: sum:score: "x" is not a number)/);
});

test('-w 2 spills per worker and still merges right; -w with --window is a usage error', async () => {
  const inline = await runOp(['reduce', '-k', 'user', '--agg', 'count,collect:score'], { input });
  const pooled = await runOp(['reduce', '-k', 'user', '--agg', 'count,collect:score', '-w', '2', '--max-memory', '128KiB', '--stats'], { input });
  assert.is(pooled.status, 0, pooled.stderr);
  assert.equal(sortRows(lines(pooled.stdout) as Row[]), sortRows(lines(inline.stdout) as Row[]));
  assert.ok(((JSON.parse(pooled.stderr) as Row).spills as number) > 1);
  const windowed = await runOp(['reduce', '-k', 'user', '--agg', 'count', '-w', '2', '--window', 'count:2'], { input: '{}\n' });
  assert.is(windowed.status, 2);
  assert.match(windowed.stderr, /-w does not combine with --window/);
});

test.run();

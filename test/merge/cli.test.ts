import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { makeRecords, scratch, sh } from '../shard/op-shell.js';

const work = scratch({
  'a.ndjson': '{"n":1}\n{"n":2}', // no final newline
  'b.ndjson': '\ufeff{"n":3}\n\n{"n":4}\n',
});
for (const k of [10, 2, 1, 100]) writeFileSync(join(work.dir, `out.${k}`), `{"k":${k}}\n`);
mkdirSync(join(work.dir, 'sub'));
for (const k of [9, 10]) writeFileSync(join(work.dir, 'sub', `part-${k}.ndjson`), `{"p":${k}}\n`);

test.after(() => work.remove());

function merge(args: string[], input = ''): ReturnType<typeof runOp> {
  return runOp(['merge', ...args], { cwd: work.dir, input });
}

test('concatenates in argument order; a missing final newline does not glue records; blanks and BOM go', async () => {
  const result = await merge(['a.ndjson', 'b.ndjson', 'a.ndjson']);
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, '{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n{"n":1}\n{"n":2}\n');
});

test('a quoted glob expands in natural order: out.2 before out.10', async () => {
  const result = await merge(['out.*']);
  assert.is(result.stdout, '{"k":1}\n{"k":2}\n{"k":10}\n{"k":100}\n');
  const nested = await merge(['sub/part-*.ndjson', 'a.ndjson']);
  assert.is(nested.stdout, '{"p":9}\n{"p":10}\n{"n":1}\n{"n":2}\n');
  const absolute = await merge([join(work.dir, 'sub/*')]);
  assert.is(absolute.stdout, '{"p":9}\n{"p":10}\n');
});

test('a glob that matches nothing, or a missing file, is a usage error naming it', async () => {
  const none = await merge(['a.ndjson', 'nothing-*.ndjson']);
  assert.is(none.status, 2);
  assert.is(none.stdout, '');
  assert.is(none.stderr, 'op merge: no file matches nothing-*.ndjson\nSee op merge --help\n');
  const missing = await merge(['missing.ndjson']);
  assert.is(missing.status, 2);
  assert.is(missing.stderr, 'op merge: missing.ndjson: no such file\nSee op merge --help\n');
});

test('- is stdin, in its place among the files; no file at all reads stdin', async () => {
  const result = await merge(['a.ndjson', '-', 'b.ndjson'], '{"in":true}');
  assert.is(result.stdout, '{"n":1}\n{"n":2}\n{"in":true}\n{"n":3}\n{"n":4}\n');
  const alone = await merge([], '{"in":1}\n\n{"in":2}\n');
  assert.is(alone.stdout, '{"in":1}\n{"in":2}\n');
  const keyed = await merge(['--key', 'n', '--numeric', 'a.ndjson', '-'], '{"n":0}\n{"n":1.5}\n');
  assert.is(keyed.stdout, '{"n":0}\n{"n":1}\n{"n":1.5}\n{"n":2}\n');
});

test('--round-robin: one record from each input in turn, skipping the done ones', async () => {
  const result = await merge(['--round-robin', 'a.ndjson', 'out.*', '-'], '{"s":1}\n{"s":2}\n{"s":3}\n');
  assert.is(result.status, 0, result.stderr);
  assert.equal(lines(result.stdout), [{ n: 1 }, { k: 1 }, { k: 2 }, { k: 10 }, { k: 100 }, { s: 1 }, { n: 2 }, { s: 2 }, { s: 3 }]);
});

test('--round-robin restores the order of index shares, for 1, 2, 3 and 7 ranks', async () => {
  const input = ndjson(makeRecords(200));
  for (const world of [1, 2, 3, 7]) {
    const shares = Array.from({ length: world }, (_, rank) => `s${world}.${rank}`);
    const result = await sh(`op shard --split 's${world}.{rank}' --world ${world} && op merge --round-robin 's${world}.*'`, work.dir, { input });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, input, `world ${world} (${shares.join(' ')})`);
  }
});

test('--key: string keys, stable (ties in input order), records written as read', async () => {
  const x = '{"name":"ann","src":"x1"}\n{"name":"bob","src":"x2"}\n{"name":"bob","src":"x3"}\n{ "name" : "eve" , "src":"x4"}\n';
  const y = '{"name":"al","src":"y1"}\n{"name":"bob","src":"y2"}\n{"name":"zed","src":"y3"}\n';
  const result = await sh(`printf '%s' '${y}' > y.ndjson; op merge --key name - y.ndjson`, work.dir, { input: x });
  assert.is(result.status, 0, result.stderr);
  const srcs = (lines(result.stdout) as Array<{ src: string }>).map((r) => r.src);
  assert.equal(srcs, ['y1', 'x1', 'x2', 'x3', 'y2', 'x4', 'y3']);
  assert.match(result.stdout, /\n\{ "name" : "eve" , "src":"x4"\}\n/);
});

test('--key --numeric and --reverse', async () => {
  writeFileSync(join(work.dir, 'n1'), '{"t":2}\n{"t":10}\n{"t":"30"}\n');
  writeFileSync(join(work.dir, 'n2'), '{"t":1}\n{"t":9.5}\n{"t":11}\n');
  const numeric = await merge(['--key', 't', '--numeric', 'n1', 'n2']);
  assert.is(numeric.status, 0, numeric.stderr);
  assert.is(numeric.stdout, '{"t":1}\n{"t":2}\n{"t":9.5}\n{"t":10}\n{"t":11}\n{"t":"30"}\n');
  writeFileSync(join(work.dir, 'r1'), '{"t":10}\n{"t":3}\n{"t":3}\n');
  writeFileSync(join(work.dir, 'r2'), '{"t":12}\n{"t":3,"second":true}\n{"t":-1}\n');
  const reverse = await merge(['--key', 't', '--numeric', '--reverse', 'r1', 'r2']);
  assert.is(reverse.stdout, '{"t":12}\n{"t":10}\n{"t":3}\n{"t":3}\n{"t":3,"second":true}\n{"t":-1}\n');
});

test('--key: a seeded random check against a stable sort of all inputs', async () => {
  let seed = 11;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const all: Array<{ k: number; f: number; j: number }> = [];
  const names: string[] = [];
  for (let f = 0; f < 5; f++) {
    const keys = Array.from({ length: 2000 + rand(500) }, () => rand(300)).sort((a, b) => a - b);
    const records = keys.map((k, j) => ({ k, f, j }));
    all.push(...records);
    names.push(`rnd.${f}`);
    writeFileSync(join(work.dir, `rnd.${f}`), ndjson(records));
  }
  const result = await merge(['--key', 'k', '--numeric', ...names]);
  assert.is(result.status, 0, result.stderr);
  // Array.prototype.sort is stable: equal keys keep file order, then line order.
  assert.is(result.stdout, ndjson([...all].sort((a, b) => a.k - b.k)));
});

test('--key: an input out of order stops the merge at its file and line; output before it is whole lines', async () => {
  writeFileSync(join(work.dir, 'ok'), '{"i":1}\n{"i":5}\n');
  writeFileSync(join(work.dir, 'bad'), '{"i":2}\n\n{"i":4}\n{"i":3}\n{"i":6}\n');
  const result = await merge(['--key', 'i', '--numeric', 'ok', 'bad']);
  assert.is(result.status, 1);
  assert.is(result.stdout, '{"i":1}\n{"i":2}\n{"i":4}\n');
  assert.is(result.stderr, 'op merge: bad:4: out of order: i 3 after 4; each input must be sorted by i (ascending)\n  {"i":3}\n');
});

test('--key: a record without the key, a non-number with --numeric, and bad JSON are errors with their place', async () => {
  writeFileSync(join(work.dir, 'e1'), '{"i":1}\n{"j":2}\n');
  const missing = await merge(['--key', 'i', 'e1']);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /^op merge: e1:2: no field "i" to merge on\n/);
  writeFileSync(join(work.dir, 'e2'), '{"i":1}\n{"i":"x"}\n');
  const nan = await merge(['--key', 'i', '--numeric', 'e2']);
  assert.match(nan.stderr, /^op merge: e2:2: i is "x", not a number \(--numeric\)\n/);
  writeFileSync(join(work.dir, 'e3'), '{"i":1}\n{"i":\n');
  const json = await merge(['--key', 'i', 'e3']);
  assert.is(json.status, 1);
  assert.match(json.stderr, /^op merge: e3:2: SyntaxError: /);
});

test('a closed stdout ends the merge quietly with status 0 (concat, round-robin, key)', async () => {
  writeFileSync(join(work.dir, 'big.ndjson'), ndjson(makeRecords(60000)));
  for (const mode of ['', '--round-robin', '--key id --numeric']) {
    const result = await sh(`(op merge ${mode} big.ndjson big.ndjson; echo "status=$?" >&2) | head -1`, work.dir);
    assert.is(result.stdout, '{"id":0,"user":"u0","name":"ana","score":0}\n', mode);
    assert.is(result.stderr, 'status=0\n', mode);
  }
});

test.run();

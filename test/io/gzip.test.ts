import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sniffGzip } from '../../src/io/gunzip-source.js';
import { openChunkSource } from '../../src/io/open-source.js';
import { OP, lines, ndjson, runOp, type RunResult } from '../helpers/run-op.js';

const dir = mkdtempSync(join(tmpdir(), 'opkit-gzip-'));
const path = (name: string): string => join(dir, name);
const N = 3000;
const records = Array.from({ length: N }, (_, id) => ({ id, name: `record ${id}` }));
const text = ndjson(records);
writeFileSync(path('in.ndjson'), text);
writeFileSync(path('in.ndjson.gz'), gzipSync(text));

const isGzipFile = (name: string): boolean => readFileSync(path(name)).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]));
const gunzipText = (name: string): string => gunzipSync(readFileSync(path(name))).toString('utf8');

/** `op ARGS…` with stdin redirected from a file, as `op … < file` does. */
function runWithStdinFile(args: string[], file: string): Promise<RunResult> {
  const fd = openSync(file, 'r');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OP, ...args], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status, signal }));
  });
}

test('a gzip file, gzip on a pipe and gzip redirected to stdin are read as their lines, inline and with -w 2', async () => {
  const expected = records.map((r) => r.id * 2);
  for (const flags of [[], ['-w', '2']]) {
    const file = await runOp(['map', 'r.id * 2', '--in', path('in.ndjson.gz'), ...flags]);
    assert.is(file.status, 0, file.stderr);
    assert.equal(lines(file.stdout), expected, `--in x.ndjson.gz ${flags.join(' ')}`);
    const piped = await runOp(['map', 'r.id * 2', ...flags], { input: gzipSync(text) });
    assert.is(piped.status, 0, piped.stderr);
    assert.equal(lines(piped.stdout), expected, `a pipe ${flags.join(' ')}`);
    const redirected = await runWithStdinFile(['map', 'r.id * 2', ...flags], path('in.ndjson.gz'));
    assert.is(redirected.status, 0, redirected.stderr);
    assert.equal(lines(redirected.stdout), expected, `< x.ndjson.gz ${flags.join(' ')}`);
  }
});

test('filter, slice and batch read gzip through the same reader; two gzip members back to back are one stream', async () => {
  writeFileSync(path('two.gz'), Buffer.concat([gzipSync(ndjson([[1, 2], [3]])), gzipSync(ndjson([[4]]))]));
  const sliced = await runOp(['slice', '--in', path('two.gz')]);
  assert.equal(lines(sliced.stdout), [1, 2, 3, 4]);
  const kept = await runOp(['filter', 'r.id % 1000 === 0', '--in', path('in.ndjson.gz')]);
  assert.equal(lines(kept.stdout), [records[0], records[1000], records[2000]]);
  const batched = await runOp(['batch', '--size', '1000', 'rs => [rs.length]', '--in', path('in.ndjson.gz')]);
  assert.equal(lines(batched.stdout), [1000, 1000, 1000]);
});

test('line numbers in errors count the decompressed lines: x.ndjson.gz:42', async () => {
  const broken = text.split('\n');
  broken[41] = '{"id": 41, oops}';
  writeFileSync(path('broken.ndjson.gz'), gzipSync(broken.join('\n')));
  const result = await runOp(['map', 'r', '--in', path('broken.ndjson.gz')]);
  assert.is(result.status, 1);
  assert.match(result.stderr, new RegExp(`^op map: ${path('broken.ndjson.gz')}:42: SyntaxError: `));
  assert.match(result.stderr, /\n {2}\{"id": 41, oops\}\n/, 'the line itself, decompressed');
  assert.is(lines(result.stdout).length, 41);
  const errors = path('broken-errors.ndjson');
  const lettered = await runOp(['map', 'r', '--in', path('broken.ndjson.gz'), '--errors', errors, '-w', '2']);
  assert.is(lettered.status, 3);
  assert.equal((lines(readFileSync(errors, 'utf8')) as Array<{ line: number }>).map((e) => e.line), [42]);
});

test('a corrupt or truncated gzip input: one line naming the file, exit 1, after every whole line before the damage', async () => {
  const gz = readFileSync(path('in.ndjson.gz'));
  writeFileSync(path('truncated.ndjson.gz'), gz.subarray(0, gz.length >> 1));
  const damaged = Buffer.from(gz);
  damaged.fill(0xff, 200, 260);
  writeFileSync(path('damaged.ndjson.gz'), damaged);
  for (const name of ['truncated.ndjson.gz', 'damaged.ndjson.gz']) {
    // What gunzip itself can decompress before the damage, in whole lines.
    const readable = (() => {
      try {
        return gunzipSync(readFileSync(path(name)), { finishFlush: 2 }).toString();
      } catch {
        return '';
      }
    })();
    const whole = readable.slice(0, readable.lastIndexOf('\n') + 1);
    for (const flags of [[], ['-w', '2']]) {
      const result = await runOp(['map', 'r', '--in', path(name), ...flags]);
      assert.is(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^op map: ${path(name)}: corrupt gzip data: [^\\n]+\\n$`), `${name} ${flags.join(' ')}: ${result.stderr}`);
      assert.is(result.stdout, whole, `${name} ${flags.join(' ')}: every whole line before the damage`);
      const piped = await runOp(['filter', 'true', ...flags], { input: readFileSync(path(name)) });
      assert.is(piped.status, 1);
      assert.match(piped.stderr, /^op filter: stdin: corrupt gzip data: [^\n]+\n$/);
      assert.is(piped.stdout, whole, `${name} on a pipe ${flags.join(' ')}`);
    }
  }
  assert.ok(readFileSync(path('truncated.ndjson.gz')).length > 0);
});

test('--out and --errors ending in .gz are written as gzip; other names stay plain', async () => {
  const result = await runOp(['map', 'r.id === 7 ? nope : r', '--in', path('in.ndjson.gz'), '--out', path('out.ndjson.gz'), '--errors', path('errors.ndjson.gz'), '-w', '2']);
  assert.is(result.status, 3, result.stderr);
  assert.ok(isGzipFile('out.ndjson.gz') && isGzipFile('errors.ndjson.gz'));
  assert.equal(lines(gunzipText('out.ndjson.gz')), records.filter((r) => r.id !== 7));
  assert.equal((lines(gunzipText('errors.ndjson.gz')) as Array<{ line: number }>).map((e) => e.line), [8]);
  const plain = await runOp(['map', 'r', '--in', path('in.ndjson.gz'), '--out', path('out.ndjson')]);
  assert.is(plain.status, 0);
  assert.is(readFileSync(path('out.ndjson'), 'utf8'), text);
});

test('op merge: gzip inputs in every mode, and --out x.gz', async () => {
  const evens = records.filter((r) => r.id % 2 === 0);
  const odds = records.filter((r) => r.id % 2 === 1);
  writeFileSync(path('evens.ndjson.gz'), gzipSync(ndjson(evens)));
  writeFileSync(path('odds.ndjson'), ndjson(odds));
  const keyed = await runOp(['merge', '--key', 'id', path('evens.ndjson.gz'), path('odds.ndjson'), '--out', path('merged.ndjson.gz')]);
  assert.is(keyed.status, 0, keyed.stderr);
  assert.ok(isGzipFile('merged.ndjson.gz'));
  assert.is(gunzipText('merged.ndjson.gz'), text);
  const woven = await runOp(['merge', '--round-robin', path('evens.ndjson.gz'), path('odds.ndjson')]);
  assert.is(woven.stdout, text);
  const concatenated = await runOp(['merge', path('evens.ndjson.gz'), path('odds.ndjson')]);
  assert.is(concatenated.stdout, ndjson([...evens, ...odds]));
});

test('op shard: gzip input, --split and --out templates ending in .gz write gzip shares', async () => {
  const split = await runOp(['shard', '--world', '3', '--split', path('share-{rank}.ndjson.gz'), '--in', path('in.ndjson.gz')]);
  assert.is(split.status, 0, split.stderr);
  for (let rank = 0; rank < 3; rank++) {
    assert.ok(isGzipFile(`share-${rank}.ndjson.gz`));
    assert.equal(lines(gunzipText(`share-${rank}.ndjson.gz`)), records.filter((r) => r.id % 3 === rank));
  }
  const one = await runOp(['shard', '--world', '2', '--rank', '1', '--by', 'key:id', '--out', path('out.{rank}.ndjson.gz')], { input: gzipSync(text) });
  assert.is(one.status, 0, one.stderr);
  assert.ok(isGzipFile('out.1.ndjson.gz'));
  assert.is(lines(gunzipText('out.1.ndjson.gz')).length > 0, true);
});

test('op reduce and op each read gzip input', async () => {
  const reduced = await runOp(['reduce', '-k', 'even', '--agg', 'count', '--in', path('in.ndjson.gz')]);
  assert.is(reduced.status, 0, reduced.stderr);
  assert.is(reduced.stdout.split('\n').filter(Boolean).length, 1, reduced.stdout);
  assert.match(reduced.stdout, new RegExp(`"count":${N}\\b`));
  writeFileSync(path('few.ndjson.gz'), gzipSync(ndjson([{ w: 'a' }, { w: 'b' }])));
  const each = await runOp(['each', '--in', path('few.ndjson.gz'), '--', 'echo', '{.w}']);
  assert.is(each.status, 0, each.stderr);
  assert.equal((lines(each.stdout) as Array<{ exec: { stdout: string } }>).map((r) => r.exec.stdout), ['a\n', 'b\n']);
});

test('a plain file keeps the zero-copy descriptor path for workers; a gzip file goes through a decompressing stream', () => {
  const plain = openChunkSource(path('in.ndjson'), { readAhead: false });
  assert.ok(plain.fd !== undefined);
  plain.close();
  const gz = openChunkSource(path('in.ndjson.gz'), { readAhead: false });
  assert.is(gz.fd, undefined);
  gz.stream.destroy();
});

test('on a pipe, gzip is known by its first two bytes even when they arrive apart', async () => {
  const gz = gzipSync('{"a":1}\n');
  const apart = Readable.from([gz.subarray(0, 1), gz.subarray(1, 2), gz.subarray(2)]);
  const decoded: Buffer[] = [];
  for await (const chunk of sniffGzip(apart, 'stdin').stream) decoded.push(chunk as Buffer);
  assert.is(Buffer.concat(decoded).toString(), '{"a":1}\n');
  const plain: Buffer[] = [];
  for await (const chunk of sniffGzip(Readable.from([Buffer.from('{'), Buffer.from('"b":2}\n')]), 'stdin').stream) plain.push(chunk as Buffer);
  assert.is(Buffer.concat(plain).toString(), '{"b":2}\n');
  const empty: Buffer[] = [];
  for await (const chunk of sniffGzip(Readable.from([]), 'stdin').stream) empty.push(chunk as Buffer);
  assert.equal(empty, []);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, runOp } from '../helpers/run-op.js';
import { scratch, sh } from '../shard/op-shell.js';

const INPUT = Array.from({ length: 2000 }, (_, k) => JSON.stringify({ id: k, score: (k * 37) % 100 }) + '\n').join('');
const work = scratch({ 'in.ndjson': INPUT });
test.after(() => work.remove());

const A = '({id: r.id, s: r.score * 2})';
// Each output names its batch (the sum of its ids), so a batch cut elsewhere changes the output.
const D = 'r.map((x) => ({...x, batch: r.reduce((sum, y) => sum + y.id, 0), size: r.length}))';
const E = '({...r, ok: r.s > 80})';

test("a batch step's output is the pipe's, inline and with -w 2", async () => {
  const pipe = await sh(`op map '${A}' < in.ndjson | op batch --size 10 '${D}' | op map '${E}'`, work.dir);
  assert.is(pipe.status, 0, pipe.stderr);
  assert.is(lines(pipe.stdout).length, 2000);
  const inline = await runOp(['map', A, 'then', 'batch', '--size', '10', D, 'then', 'map', E, '--in', 'in.ndjson'], { cwd: work.dir });
  assert.is(inline.status, 0, inline.stderr);
  assert.is(inline.stdout, pipe.stdout);
  // Small chunks, so that many chunks (each of whole batches) reach both workers.
  const threads = await runOp(['map', A, 'then', 'batch', '--size', '10', D, '-w', '2', 'then', 'map', E, '--in', 'in.ndjson'], { cwd: work.dir, env: { OP_CHUNK_BYTES: '4096' } });
  assert.is(threads.status, 0, threads.stderr);
  assert.is(threads.stdout, pipe.stdout);
});

test('a batch step without a handler passes each batch on as one array', async () => {
  const result = await runOp(['map', 'r * 2', 'then', 'batch', '--size', '3', 'then', 'map', 'r.join("-")'], { cwd: work.dir, input: '1\n2\n3\n4\n5\n6\n7\n' });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, '"2-4-6"\n"8-10-12"\n"14"\n');
});

test('a batch is --size input records: a record dropped before the batch step leaves its batch short', async () => {
  const result = await runOp(['filter', 'r % 3 !== 0', 'then', 'batch', '--size', '3', '[r.length]'], { cwd: work.dir, input: '1\n2\n3\n4\n5\n6\n7\n' });
  assert.is(result.stdout, '2\n2\n1\n', result.stderr);
});

test('a failing batch handler dead-letters its records with the step; a step before it, the record alone', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const args = ['map', 'r === 3 ? null.x : ({n: r})', 'then', 'batch', '--size', '4', 'r.some((x) => x.n === 6) ? null.y : r', 'then', 'map', '({...r, ok: true})', '--errors', 'dl.ndjson', '--stats', ...workers];
    const input = Array.from({ length: 10 }, (_, k) => `${k + 1}\n`).join('');
    const result = await runOp(args, { cwd: work.dir, input });
    assert.is(result.status, 3, result.stderr);
    assert.is(result.stdout, [1, 2, 4, 9, 10].map((n) => `{"n":${n},"ok":true}\n`).join(''));
    const letters = lines(work.read('dl.ndjson')) as Array<{ line: number; stage: string; input: unknown }>;
    assert.equal(
      letters.map((letter) => [letter.line, letter.stage, letter.input]),
      [
        [3, '1:map', 3],
        [5, '2:batch', 5],
        [6, '2:batch', 6],
        [7, '2:batch', 7],
        [8, '2:batch', 8],
      ],
    );
    const stats = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { in: number; out: number; errors: number; steps: Array<{ step: string; in: number; out: number; dropped: number; errors: number }> };
    assert.equal([stats.in, stats.out, stats.errors], [10, 5, 5]);
    assert.equal(
      stats.steps.map(({ step, in: n, out, dropped, errors }) => [step, n, out, dropped, errors]),
      [
        ['1:map', 10, 9, 0, 1],
        ['2:batch', 9, 5, 0, 4],
        ['3:map', 5, 5, 0, 0],
      ],
    );
  }
});

test('without --errors a failure before the batch step names its own line; two batch steps are refused', async () => {
  const failed = await runOp(['map', 'r === 3 ? null.x : r', 'then', 'batch', '--size', '4', 'r'], { cwd: work.dir, input: '1\n2\n3\n4\n' });
  assert.is(failed.status, 1);
  assert.match(failed.stderr, 'stdin:3: TypeError');
  const two = await runOp(['batch', '--size', '2', 'then', 'batch', '--size', '3'], { cwd: work.dir, input: '1\n' });
  assert.is(two.status, 2);
  assert.match(two.stderr, 'step 2: a chain holds one batch step');
});

test('--max-errors with a failing batch step: each failed record is counted and dead-lettered once, and the stats balance', async () => {
  const input = Array.from({ length: 100 }, (_, k) => `${k + 1}\n`).join('');
  const failing = 'r.includes(35) || r.includes(75) ? (() => { throw new Error("x") })() : r';
  for (const [max, errors] of [[10, 10], [20, 20]] as const) {
    const result = await runOp(['map', 'r', 'then', 'batch', '--size', '10', failing, '--errors', '/dev/stdout', '--max-errors', String(max), '--stats', '--quiet'], { input });
    assert.is(result.status, 1, result.stderr);
    const letters = result.stdout.split('\n').filter((line) => line.startsWith('{"source"')).map((line) => JSON.parse(line) as { line: number; error: { message: string } });
    assert.is(letters.length, errors, String(max));
    assert.is(new Set(letters.map((letter) => letter.line)).size, errors, 'no record twice');
    for (const letter of letters) assert.is(letter.error.message, 'x');
    const stats = JSON.parse(result.stderr.split('\n').find((line) => line.startsWith('{"in"'))!) as { in: number; out: number; dropped: number; errors: number };
    assert.is(stats.errors, errors);
    assert.is(stats.in, stats.out + stats.dropped + stats.errors, 'the stats balance');
  }
});

test.run();

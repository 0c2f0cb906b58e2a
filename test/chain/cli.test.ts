import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, runOp } from '../helpers/run-op.js';
import { scratch, sh } from '../shard/op-shell.js';

const INPUT = Array.from({ length: 3000 }, (_, k) => JSON.stringify({ id: k, score: (k * 37) % 100, tags: ['a', 'b', 'c'].slice(0, k % 4) }) + '\n').join('');
const work = scratch({ 'in.ndjson': INPUT });
test.after(() => work.remove());

const A = '({id: r.id, score: r.score, tags: r.tags})';
const B = 'r.score > 40';
const C = 'r.tags.map((tag) => ({id: r.id, tag}))';
const D = '({...r, i})';

test("a chain's output is the pipe's, inline and with -w 2; + joins as then does", async () => {
  const pipe = await sh(`op map '${A}' < in.ndjson | op filter '${B}' | op slice '${C}' | op map '${D}'`, work.dir);
  assert.is(pipe.status, 0, pipe.stderr);
  assert.ok(pipe.stdout.length > 0);
  const chain = await runOp(['map', A, 'then', 'filter', B, 'then', 'slice', C, '+', 'map', D, '--in', 'in.ndjson'], { cwd: work.dir });
  assert.is(chain.status, 0, chain.stderr);
  // i is the index of the record read; the pipe's last op map counts its own input.
  assert.equal(lines(chain.stdout).length, lines(pipe.stdout).length);
  const noIndex = await runOp(['map', A, 'then', 'filter', B, 'then', 'slice', C, '--in', 'in.ndjson'], { cwd: work.dir });
  const pipeNoIndex = await sh(`op map '${A}' < in.ndjson | op filter '${B}' | op slice '${C}'`, work.dir);
  assert.is(noIndex.stdout, pipeNoIndex.stdout);
  const threads = await runOp(['map', A, 'then', 'filter', B, '-w', '2', 'then', 'slice', C, '--in', 'in.ndjson'], { cwd: work.dir, env: { OP_CHUNK_BYTES: '8192' } });
  assert.is(threads.status, 0, threads.stderr);
  assert.is(threads.stdout, pipeNoIndex.stdout);
});

test('dead letters name the step; --stats counts each step, and each balances', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const result = await runOp(['map', '({n: r})', 'then', 'filter', 'r.n % 3 === 0 ? null.x : r.n % 2', '--retries', '1', '--retry-delay', '1', 'then', 'map', '({...r, ok: true})', '--errors', 'dl.ndjson', '--stats', ...workers], { cwd: work.dir, input: '1\n2\n3\n4\n5\n6\n7\n' });
    assert.is(result.status, 3, result.stderr);
    assert.is(result.stdout, '{"n":1,"ok":true}\n{"n":5,"ok":true}\n{"n":7,"ok":true}\n');
    const letters = lines(work.read('dl.ndjson')) as Array<{ line: number; stage: string; attempts: number; input: unknown }>;
    assert.equal(
      letters.map((letter) => [letter.line, letter.stage, letter.attempts, letter.input]),
      [
        [3, '2:filter', 2, 3],
        [6, '2:filter', 2, 6],
      ],
    );
    const stats = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { in: number; out: number; errors: number; steps: Array<{ step: string; in: number; out: number; dropped: number; errors: number; retries: number }> };
    assert.equal([stats.in, stats.out, stats.errors], [7, 3, 2]);
    assert.equal(
      stats.steps.map(({ step, in: n, out, dropped, errors, retries }) => [step, n, out, dropped, errors, retries]),
      [
        ['1:map', 7, 7, 0, 0, 0],
        ['2:filter', 7, 3, 2, 2, 2],
        ['3:map', 3, 3, 0, 0, 0],
      ],
    );
  }
});

test('a run flag given with two steps is a usage error; a step flag is per step', async () => {
  const twice = await runOp(['map', 'r', '--out', 'a.ndjson', 'then', 'map', 'r', '--out', 'b.ndjson'], { cwd: work.dir, input: '1\n' });
  assert.is(twice.status, 2);
  assert.match(twice.stderr, 'op map: --out is given twice (steps 1 and 2); a run flag is given once, with any step');
  const config = await runOp(['map', '({a: ctx.config.k, r})', '--config', '{"k":1}', 'then', 'map', '({...r, b: ctx.config.k})', '--config', '{"k":2}'], { cwd: work.dir, input: '0\n' });
  assert.is(config.stdout, '{"a":1,"r":0,"b":2}\n', config.stderr);
  const notStep = await runOp(['map', 'r', 'then', 'shard'], { cwd: work.dir, input: '1\n' });
  assert.is(notStep.status, 2);
  assert.match(notStep.stderr, 'step 2: shard is not a step');
});

test('op chain FILE: one step per line, # comments, run flags after FILE', async () => {
  writeFileSync(join(work.dir, 'steps.chain'), `# keep the high scores\nmap '${A}'\n\nfilter "${B}"\nslice '${C}'\n`);
  const result = await runOp(['chain', 'steps.chain', '--in', 'in.ndjson', '-w', '2'], { cwd: work.dir });
  assert.is(result.status, 0, result.stderr);
  const pipe = await sh(`op map '${A}' < in.ndjson | op filter '${B}' | op slice '${C}'`, work.dir);
  assert.is(result.stdout, pipe.stdout);
});

test.run();

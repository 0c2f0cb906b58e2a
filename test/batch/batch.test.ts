import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, OP, lines, ndjson, runOp } from '../helpers/run-op.js';

const numbers = (n: number): string => ndjson(Array.from({ length: n }, (_, k) => k));
const modes = [[], ['-w', '2']] as const;

for (const workers of modes) {
  const label = workers.length ? ' (workers)' : '';

  test(`batches by count${label}`, async () => {
    const result = await runOp(['batch', '--size', '3', ...workers], { input: numbers(8), env: { OP_CHUNK_BYTES: '16' } });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, '[0,1,2]\n[3,4,5]\n[6,7]\n');
  });

  test(`batches by bytes; a larger record forms its own batch${label}`, async () => {
    const input = ['1', '22', '333', '4444', '"a long string"', '5', '6'].join('\n') + '\n';
    const result = await runOp(['batch', '--bytes', '5', ...workers], { input, env: { OP_CHUNK_BYTES: '16' } });
    // --bytes bounds the emitted line: `[1,22]` is 6 bytes, `[5,6]` exactly 5.
    assert.is(result.stdout, '[1]\n[22]\n[333]\n[4444]\n["a long string"]\n[5,6]\n');
  });

  test(`batch then slice restores the input exactly${label}`, async () => {
    const input = readFileSync(join(FIXTURES, 'people.ndjson'), 'utf8') + '{"odd": "spacing" ,"u":"\\u00e9"}\nnull\n[1,[2]]\n"s"\n';
    const batched = await runOp(['batch', '--size', '4', ...workers], { input, env: { OP_CHUNK_BYTES: '256' } });
    const restored = await runOp(['slice'], { input: batched.stdout });
    assert.is(restored.stdout, (lines(input) as unknown[]).map((value) => JSON.stringify(value) + '\n').join(''));
  });

  test(`batch then slice gives back canonical NDJSON byte for byte${label}`, async () => {
    const input = readFileSync(join(FIXTURES, 'people.ndjson'), 'utf8');
    const batched = await runOp(['batch', '--size', '3', ...workers], { input, env: { OP_CHUNK_BYTES: '256' } });
    const restored = await runOp(['slice', ...workers], { input: batched.stdout });
    assert.is(restored.stdout, input);
  });

  test(`a handler maps N records to M${label}`, async () => {
    const result = await runOp(['batch', '--size', '4', '[{sum: r.reduce((a, b) => a + b, 0), n: r.length}]', '--stats', ...workers], {
      input: numbers(10),
      env: { OP_CHUNK_BYTES: '16' },
    });
    assert.equal(lines(result.stdout), [
      { sum: 6, n: 4 },
      { sum: 22, n: 4 },
      { sum: 17, n: 2 },
    ]);
    const stats = JSON.parse(result.stderr.trim()) as Record<string, number>;
    assert.equal([stats.in, stats.out], [10, 3]);
  });

  test(`a failed batch dead-letters each of its records, with the error${label}`, async () => {
    const handler = 'r.map(x => { if (x === 4) throw new Error("four"); return x * 10 })';
    const result = await runOp(['batch', '--size', '3', handler, '--errors', '/dev/stderr', '--quiet', '--stats', ...workers], { input: numbers(8), env: { OP_CHUNK_BYTES: '16' } });
    assert.is(result.status, 3);
    assert.equal(lines(result.stdout), [0, 10, 20, 60, 70]);
    const [a, b, c, stats] = lines(result.stderr) as Array<Record<string, unknown>>;
    assert.equal([a, b, c].map((e) => [e!.line, e!.input, e!.stage, (e!.error as { message: string }).message]), [
      [4, 3, 'batch', 'four'],
      [5, 4, 'batch', 'four'],
      [6, 5, 'batch', 'four'],
    ]);
    assert.equal([stats!.in, stats!.out, stats!.errors], [8, 5, 3]);
  });

  test(`--retries reruns a failing batch${label}`, async () => {
    const handler = 'async (r, ctx) => { if (ctx.attempt < 2) throw new Error("again"); return r.map(x => [x, ctx.attempt]) }';
    const result = await runOp(['batch', '--size', '2', handler, '--retries', '1', '--retry-delay', '0', '-c', '2', ...workers], { input: numbers(4) });
    assert.equal(lines(result.stdout), [[0, 2], [1, 2], [2, 2], [3, 2]]);
  });

  test(`a record that does not parse keeps its place in the batch${label}`, async () => {
    const result = await runOp(['batch', '--size', '2', '--errors', '/dev/null', ...workers], { input: '1\nbad\n3\n4\n5\n' });
    assert.is(result.stdout, '[1]\n[3,4]\n[5]\n');
  });
}

test('workers give the same batches as the inline run, whatever the chunk size', async () => {
  const input = readFileSync(join(FIXTURES, 'people.ndjson'), 'utf8').repeat(40);
  const inline = await runOp(['batch', '--size', '7', '--bytes', '900'], { input });
  for (const chunk of ['64', '300', '4096']) {
    const pooled = await runOp(['batch', '--size', '7', '--bytes', '900', '-w', '2'], { input, env: { OP_CHUNK_BYTES: chunk } });
    assert.is(pooled.stdout, inline.stdout, `chunk ${chunk}`);
  }
});

for (const workers of modes) {
  test(`--wait flushes a batch of a slow input in time${workers.length ? ' (workers)' : ''}`, async () => {
    const child = spawn(process.execPath, [OP, 'batch', '--size', '100', '--wait', '100', ...workers], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stdin.write('1\n2\n');
    const started = Date.now();
    while (!out.includes('\n') && Date.now() - started < 10_000) await new Promise((ok) => setTimeout(ok, 10));
    assert.is(out, '[1,2]\n', 'flushed while the input stays open');
    child.stdin.end('3\n');
    await new Promise((ok) => child.on('close', ok));
    assert.is(out, '[1,2]\n[3]\n');
  });
}

test('op batch needs a limit', async () => {
  const result = await runOp(['batch'], { input: '1\n' });
  assert.is(result.status, 2);
  assert.match(result.stderr, /^op batch: op batch needs --size N, --bytes B or --wait MS\n/);
});

test.run();

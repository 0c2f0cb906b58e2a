import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';

const input = ndjson(Array.from({ length: 300 }, (_, id) => ({ id })));
const slow = 'async (r) => { await new Promise(ok => setTimeout(ok, Math.random() * 5)); return r.id }';

test('-c 16 keeps input order', async () => {
  const result = await runOp(['map', slow, '-c', '16'], { input });
  assert.is(result.status, 0, result.stderr);
  assert.equal(lines(result.stdout), [...Array(300).keys()]);
});

test('--unordered emits every record once', async () => {
  const result = await runOp(['map', slow, '-c', '16', '--unordered'], { input });
  assert.equal((lines(result.stdout) as number[]).sort((a, b) => a - b), [...Array(300).keys()]);
});

test('-c N runs N calls at once, and no more', async () => {
  const probe = `async (r) => { globalThis.now = (globalThis.now ?? 0) + 1; globalThis.peak = Math.max(globalThis.peak ?? 0, globalThis.now);
    await new Promise(ok => setTimeout(ok, 5)); globalThis.now--; return globalThis.peak }`;
  const result = await runOp(['map', probe, '-c', '8'], { input });
  const peaks = lines(result.stdout) as number[];
  assert.is(Math.max(...peaks), 8);
});

test('a slow first record does not hold back more than the reorder window', async () => {
  // Record 0 waits 300 ms; the others finish at once. Memory stays bounded by the window,
  // and output still comes out in order.
  const handler = 'async (r) => { if (r.id === 0) await new Promise(ok => setTimeout(ok, 300)); return r.id }';
  const result = await runOp(['map', handler, '-c', '4'], { input });
  assert.equal(lines(result.stdout), [...Array(300).keys()]);
});

test('records start in input order across chunks, so no chunk holds finished records behind an earlier one', async () => {
  // Small chunks, several in flight at once: a later chunk takes calls only once the one
  // before it has started all its records. Were the chunks to share the calls freely, the
  // later ones' finished outputs would wait, held, for the earlier ones to end.
  const probe = 'async (r) => { const seq = globalThis.seq = (globalThis.seq ?? 0) + 1; await new Promise(ok => setTimeout(ok, 1)); return [r.id, seq] }';
  const result = await runOp(['map', probe, '-c', '4'], { input, env: { OP_READ_BYTES: '200' } });
  assert.is(result.status, 0, result.stderr);
  const pairs = lines(result.stdout) as Array<[number, number]>;
  assert.is(pairs.length, 300);
  assert.equal(pairs.filter(([id, seq]) => seq !== id + 1), []);
});

test('--timeout aborts ctx.signal', async () => {
  const handler = 'async (r, ctx) => { await new Promise(ok => ctx.signal.addEventListener("abort", ok)); globalThis.seen = ctx.signal.reason.name; return 1 }';
  const result = await runOp(['map', handler, '--timeout', '30', '--errors', '/dev/stdout'], { input: '{"a":1}\n' });
  assert.is(result.status, 3);
  assert.match(result.stdout, /"name":"TimeoutError"/);
});

test.run();

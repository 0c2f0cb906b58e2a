import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, lines, ndjson, runOp } from '../helpers/run-op.js';
import { entries, redisCli, scratchQueue, waitFor, type ScratchQueue } from './redis-scratch.js';

let queue: ScratchQueue;
let dir: string;
test.before.each(async () => {
  queue = await scratchQueue('consume');
  dir = mkdtempSync(join(tmpdir(), 'op-consume-'));
});
test.after.each(async () => {
  await queue.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function push(values: unknown[]): Promise<void> {
  const pushed = await runOp(['queue', 'push', queue.url], { input: ndjson(values) });
  assert.is(pushed.status, 0, pushed.stderr);
}

/** Entries pending in the group (0 before a consumer created it). */
async function pending(): Promise<number> {
  const groups = await queue.link.send<unknown[]>(['XINFO', 'GROUPS', queue.keys.in]).catch(() => []);
  if (groups.length === 0) return 0;
  const [count] = await queue.link.send<[number]>(['XPENDING', queue.keys.in, 'opkit']);
  return Number(count);
}

const running = new Set<ChildProcess>();
test.after.each(() => {
  // A failed test must not leave its consumers running.
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/** `op ARGS…` in the background, for tests that signal or kill it. */
function startOp(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [OP, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => (running.delete(child), resolve({ status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))),
  );
  return { child, done };
}

/** The input ids of `:out`, and each result's value. */
async function results(): Promise<{ ins: string[]; values: unknown[] }> {
  const out = await entries(queue.link, queue.keys.out);
  return { ins: out.map(([, fields]) => fields.in!), values: out.map(([, fields]) => JSON.parse(fields.d!) as unknown) };
}

test('op map --from --to: one result per record with its input id; failures go to :dead after --retries; a redis-cli XADD is consumed', async () => {
  await push(Array.from({ length: 50 }, (_, i) => ({ i })));
  const cli = await redisCli(['XADD', queue.keys.in, '*', 'd', '{"i":1000}']);
  await redisCli(['XADD', queue.keys.in, '*', 'd', '{"i": oops']);
  for (const workers of [[], ['-w', '2']]) {
    const run = await runOp(['map', 'r.i === 3 ? Promise.reject(new RangeError("three")) : ({j: r.i * 2})', '--from', queue.url, '--to', queue.url, '--drain', '--retries', '1', '--retry-delay', '1', '-q', ...workers]);
    assert.is(run.status, workers.length ? 0 : 3, run.stderr);
    assert.is(run.stdout, '');
  }
  const { ins, values } = await results();
  assert.is(ins.length, 50);
  assert.is(new Set(ins).size, 50);
  assert.ok(ins.includes(cli));
  assert.ok(values.some((value) => (value as { j: number }).j === 2000));
  const dead = await entries(queue.link, queue.keys.dead);
  assert.equal(dead.map(([, fields]) => fields.d).sort(), ['{"i": oops', '{"i":3}']);
  const three = dead.find(([, fields]) => fields.d === '{"i":3}')![1];
  assert.equal(JSON.parse(three.error!), { name: 'RangeError', message: 'three' });
  assert.is(three.starts, '1');
  assert.is(await pending(), 0);
});

test('op filter, op slice and op batch --to: each result goes with its input entry', async () => {
  await push(Array.from({ length: 10 }, (_, i) => ({ i })));
  const filtered = await runOp(['filter', 'r.i % 2 === 0', '--from', queue.url, '--to', `${queue.url}-even`, '--drain', '--group', 'f']);
  assert.is(filtered.status, 0, filtered.stderr);
  const sliced = await runOp(['slice', '[r, r]', '--from', queue.url, '--to', queue.url, '--drain', '--group', 's']);
  assert.is(sliced.status, 0, sliced.stderr);
  const even = await entries(queue.link, `opkit:{${queue.name}-even}:out`);
  await queue.link.send(['DEL', `opkit:{${queue.name}-even}:out`]);
  assert.equal(even.map(([, fields]) => JSON.parse(fields.d!) as unknown), [0, 2, 4, 6, 8].map((i) => ({ i })));
  const ids = (await entries(queue.link, queue.keys.in)).map(([id]) => id);
  assert.equal(even.map(([, fields]) => fields.in), [0, 2, 4, 6, 8].map((i) => ids[i]));
  const twice = await results();
  assert.equal(twice.ins, ids.flatMap((id) => [id, id]));
  await queue.link.send(['DEL', queue.keys.out]);
  const batched = await runOp(['batch', '--size', '4', '--from', queue.url, '--to', queue.url, '--drain', '--group', 'b', '-w', '2']);
  assert.is(batched.status, 0, batched.stderr);
  const batches = await results();
  assert.equal(batches.values.flat(), Array.from({ length: 10 }, (_, i) => ({ i })));
  assert.equal(batches.ins.length, batches.values.length);
});

test('op map --from to stdout: every record is written, then acked', async () => {
  await push(Array.from({ length: 300 }, (_, i) => ({ i })));
  const run = await runOp(['map', 'r.i', '--from', queue.url, '--drain']);
  assert.is(run.status, 0, run.stderr);
  assert.equal(lines(run.stdout), Array.from({ length: 300 }, (_, i) => i));
  assert.is(await pending(), 0);
});

test('SIGTERM: a consumer stops reading, finishes and acks what it holds, and exits 143', async () => {
  await push(Array.from({ length: 20 }, (_, i) => ({ i })));
  const consumer = startOp(['map', 'new Promise((ok) => setTimeout(() => ok(r), 300))', '-c', '20', '--from', queue.url, '--to', queue.url]);
  await waitFor('records in flight', async () => (await pending()) > 0);
  consumer.child.kill('SIGTERM');
  const { status, stderr } = await consumer.done;
  assert.is(status, 143, stderr);
  assert.is(await pending(), 0);
  assert.is((await results()).ins.length, 20);
});

test('crash: 100,000 records, 4 consumers, one killed with SIGKILL; every input has exactly one result and nothing stays pending', async () => {
  const count = 100_000;
  await push(Array.from({ length: count }, (_, i) => ({ i, pad: 'x'.repeat(20) })));
  const args = ['map', '({i: r.i})', '--from', queue.url, '--to', queue.url, '--visibility', '2000', '--drain'];
  const consumers = Array.from({ length: 4 }, () => startOp(args));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  consumers[0]!.child.kill('SIGKILL');
  const ends = await Promise.all(consumers.map((consumer) => consumer.done));
  assert.is(ends[0]!.signal, 'SIGKILL');
  for (const end of ends.slice(1)) assert.is(end.status, 0, end.stderr);
  const { ins } = await results();
  const inputs = (await queue.link.send<Array<[string, string[]]>>(['XRANGE', queue.keys.in, '-', '+'])).map(([id]) => id);
  assert.is(ins.length, count);
  assert.is(new Set(ins).size, count);
  assert.equal([...ins].sort(), [...inputs].sort());
  assert.is(await pending(), 0);
});

test('heartbeat: records slower than --visibility are never delivered twice while their consumer lives', async () => {
  const log = join(dir, 'calls.log');
  const handler = join(dir, 'slow.mjs');
  writeFileSync(handler, `import { appendFileSync } from 'node:fs';\nexport default async (r) => { appendFileSync(process.env.CALL_LOG, r.i + '\\n'); await new Promise((ok) => setTimeout(ok, 3000)); return r; };\n`);
  await push(Array.from({ length: 10 }, (_, i) => ({ i })));
  const args = ['map', handler, '-c', '5', '--from', queue.url, '--to', queue.url, '--visibility', '1000', '--drain'];
  const consumers = [startOp(args, { CALL_LOG: log }), startOp(args, { CALL_LOG: log })];
  let most = 0;
  let ended = false;
  const all = Promise.all(consumers.map((consumer) => consumer.done)).finally(() => (ended = true));
  while (!ended) {
    const held = (await pending()) === 0 ? [] : await queue.link.send<Array<[string, string, number, number]>>(['XPENDING', queue.keys.in, 'opkit', '-', '+', '100']);
    for (const [, , , deliveries] of held) most = Math.max(most, Number(deliveries));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const end of await all) assert.is(end.status, 0, end.stderr);
  assert.is(readFileSync(log, 'utf8').trim().split('\n').length, 10);
  assert.is(most, 1);
  assert.is((await results()).ins.length, 10);
});

test('poison record: a record that kills its consumer is dead-lettered after --max-deliveries starts; every other record is done once', async () => {
  const handler = join(dir, 'poison.mjs');
  writeFileSync(handler, `export default (r) => { if (r.i === 7) process.kill(process.pid, 'SIGKILL'); return r; };\n`);
  await push(Array.from({ length: 20 }, (_, i) => ({ i })));
  const args = ['map', handler, '--from', queue.url, '--to', queue.url, '--visibility', '400', '--max-deliveries', '3', '--drain'];
  let runs = 0;
  for (;;) {
    runs++;
    assert.ok(runs <= 10, 'the consumer kept dying');
    const end = await startOp(args).done;
    if (end.status === 0) break;
    assert.is(end.signal, 'SIGKILL', end.stderr);
  }
  const dead = await entries(queue.link, queue.keys.dead);
  assert.is(dead.length, 1);
  assert.is(dead[0]![1].d, '{"i":7}');
  assert.is(dead[0]![1].starts, '3');
  const { values } = await results();
  assert.equal(values, Array.from({ length: 20 }, (_, i) => ({ i })).filter(({ i }) => i !== 7));
  assert.is(await pending(), 0);
});

test('usage: --from with --in or --errors, --to without --from, --to on another server', async () => {
  for (const args of [
    ['--from', queue.url, '--in', 'x.ndjson'],
    ['--from', queue.url, '--errors', 'e.ndjson'],
    ['--to', queue.url],
    ['--from', queue.url, '--to', 'redis://127.0.0.1:6390/other'],
    ['--from', 'http://x/y'],
  ]) {
    const run = await runOp(['map', 'r', ...args]);
    assert.is(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
  }
});

test.run();

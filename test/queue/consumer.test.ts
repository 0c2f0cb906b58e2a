import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConsumer, type QueueEntry } from '../../src/queue/consumer.js';
import { entries, redisCli, scratchQueue, type ScratchQueue } from './redis-scratch.js';

let queue: ScratchQueue;
const open: QueueConsumer[] = [];
test.before.each(async () => {
  queue = await scratchQueue('consumer');
});
test.after.each(async () => {
  for (const consumer of open.splice(0)) await consumer.close();
  await queue.remove();
});

async function consumer(name: string, visibilityMs = 60_000): Promise<QueueConsumer> {
  const opened = await QueueConsumer.open({ queue: queue.url, consumer: name, heartbeat: false, visibilityMs });
  open.push(opened);
  return opened;
}

async function push(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await queue.link.send<string>(['XADD', queue.keys.in, '*', 'd', JSON.stringify({ i })]));
  return ids;
}

async function pendingCount(): Promise<number> {
  const [count] = await queue.link.send<[number]>(['XPENDING', queue.keys.in, 'opkit']);
  return Number(count);
}

test('a record XADDed by redis-cli is read like any other; an entry without d is dead-lettered, not handed out', async () => {
  const a = await consumer('a');
  const id = await redisCli(['XADD', queue.keys.in, '*', 'd', '{"from":"cli"}']);
  const odd = await redisCli(['XADD', queue.keys.in, '*', 'payload', '{}']);
  const got = await a.read(10, 100);
  assert.equal(got, [{ id, line: '{"from":"cli"}', starts: 0, redelivered: false }]);
  const [dead] = await entries(queue.link, queue.keys.dead);
  assert.is(dead?.[1].in, odd);
  assert.match(dead?.[1].error ?? '', 'entry has no field d (fields: payload)');
  assert.is(await pendingCount(), 1);
});

test('read() waits up to blockMs for new entries, and interrupt() cuts the wait short', async () => {
  const a = await consumer('a');
  const waiting = a.read(10, 30_000);
  const id = await redisCli(['XADD', queue.keys.in, '*', 'd', '1']);
  assert.equal((await waiting).map((entry) => entry.id), [id]);
  const cut = a.read(10, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await a.interrupt();
  assert.equal(await cut, []);
  assert.ok(Date.now() - started < 10_000);
});

test('exactly once: two consumers finishing the same entries add one result per entry', async () => {
  const ids = await push(200);
  const a = await consumer('a');
  const b = await consumer('b');
  const fromA = await a.read(200, 0);
  // b takes them over as if a had gone quiet (min idle 0), while a is still working.
  const fromB = await b.claimIdle(0, 200);
  assert.is(fromA.length, 200);
  assert.is(fromB.length, 200);
  assert.ok(fromB.every((entry) => entry.redelivered));
  const finish = (c: QueueConsumer, got: QueueEntry[], who: string) => Promise.all(got.map((entry) => c.ackWithResult(entry.id, [JSON.stringify({ by: who, of: entry.line })])));
  const [doneA, doneB] = await Promise.all([finish(a, fromA, 'a'), finish(b, fromB, 'b')]);
  for (let k = 0; k < 200; k++) assert.is(Number(doneA[k]) + Number(doneB[k]), 1, `entry ${k} acked by exactly one`);
  const out = await entries(queue.link, queue.keys.out);
  assert.is(out.length, 200);
  assert.equal(out.map(([, fields]) => fields.in).sort(), [...ids].sort());
  assert.is(await pendingCount(), 0);
});

test('a result of several lines, or none, is added as a unit', async () => {
  const [one, two] = await push(2);
  const a = await consumer('a');
  await a.read(2, 0);
  assert.equal(await a.ackWithResults([{ id: one as string, lines: ['"x"', '"y"', '"z"'] }, { id: two as string, lines: [] }]), [true, true]);
  assert.equal((await entries(queue.link, queue.keys.out)).map(([, fields]) => [fields.in, fields.d]), [[one, '"x"'], [one, '"y"'], [one, '"z"']]);
});

test('noteStarts counts starts per entry on top of the first delivery, and 0 for an entry another consumer has taken', async () => {
  const [first, second] = await push(2);
  const a = await consumer('a');
  const b = await consumer('b');
  await a.read(2, 0);
  assert.equal(await a.noteStarts([first as string, second as string]), [2, 2], 'the first delivery is one start');
  assert.is(await a.noteStart(first as string), 3);
  await b.claimIdle(0, 1);
  assert.is(await a.noteStart(first as string), 0, 'b owns it now');
  assert.is(await b.noteStart(first as string), 4);
});

test('dead-letter: moved with its start count and last error, acked, in one step; only once', async () => {
  const [id] = await push(1);
  const a = await consumer('a');
  const [entry] = await a.read(1, 0);
  for (let k = 2; k <= 3; k++) assert.is(await a.noteStart(id as string), k);
  assert.ok(await a.deadLetter(id as string, { line: entry?.line ?? '', starts: 3, error: new TypeError('bad record') }));
  assert.not.ok(await a.deadLetter(id as string, { line: entry?.line ?? '', starts: 3, error: new TypeError('again') }), 'already acked');
  const dead = await entries(queue.link, queue.keys.dead);
  assert.equal(dead.map(([, fields]) => fields), [{ d: '{"i":0}', in: id, starts: '3', error: '{"name":"TypeError","message":"bad record"}', consumer: 'a' }]);
  assert.is(await pendingCount(), 0);
  assert.is(await queue.link.send(['HLEN', queue.keys.starts]), 0, 'the start count goes with it');
});

test('a restarted consumer re-reads its own pending entries first, with their start counts (the first delivery is one), then new ones', async () => {
  const ids = await push(3);
  const first = await consumer('same');
  await first.read(2, 0);
  await first.noteStarts([ids[0] as string]);
  await first.close();
  open.splice(open.indexOf(first), 1);
  const again = await consumer('same');
  const own = await again.read(10, 0);
  assert.equal(own.map(({ id, starts, redelivered }) => ({ id, starts, redelivered })), [
    { id: ids[0], starts: 2, redelivered: true },
    { id: ids[1], starts: 1, redelivered: true },
  ]);
  assert.equal((await again.read(10, 0)).map(({ id, redelivered }) => ({ id, redelivered })), [{ id: ids[2], redelivered: false }]);
});

test('claimIdle takes only entries idle past the visibility timeout', async () => {
  await push(1);
  const a = await consumer('a');
  const b = await consumer('b', 300);
  await a.read(1, 0);
  assert.equal(await b.claimIdle(60_000), []);
  await new Promise((resolve) => setTimeout(resolve, 400));
  // read() claims on its own once visibility/4 passed since its last look.
  const taken = await b.read(10, 0);
  assert.is(taken.length, 1);
  assert.ok(taken[0]?.redelivered);
});

test('drained(): false while entries wait or are pending anywhere, true once all are acked', async () => {
  const a = await consumer('a');
  assert.ok(await a.drained(), 'an empty queue is drained');
  await push(2);
  assert.not.ok(await a.drained());
  const got = await a.read(2, 0);
  assert.not.ok(await a.drained(), 'pending');
  await a.ackAfterWrite([(got[0] as QueueEntry).id]);
  assert.not.ok(await a.drained());
  await a.ackAfterWrite([(got[1] as QueueEntry).id]);
  assert.ok(await a.drained());
});

test('close() removes a consumer that holds nothing from the group, and keeps one that does', async () => {
  await push(1);
  const a = await consumer('a');
  const b = await consumer('b');
  await a.read(1, 0);
  await a.close();
  await b.close();
  const names = (await queue.link.send<unknown[][]>(['XINFO', 'CONSUMERS', queue.keys.in, 'opkit'])).map((flat) => flat[1]);
  assert.equal(names, ['a']);
});

test.run();

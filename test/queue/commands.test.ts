import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConsumer } from '../../src/queue/consumer.js';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { entries, redisCli, scratchQueue, type ScratchQueue } from './redis-scratch.js';

let queue: ScratchQueue;
test.before.each(async () => {
  queue = await scratchQueue('cmd');
});
test.after.each(async () => {
  await queue.remove();
});

const records = Array.from({ length: 1000 }, (_, i) => ({ i, name: `n${i}`, tags: ['a', 'é'] }));

/** Runs a consumer over everything in :in, writing `map(line)` as each result. */
async function consumeAll(url: string, map: (line: string) => string[]): Promise<void> {
  const consumer = await QueueConsumer.open({ queue: url, heartbeat: false });
  try {
    while (!(await consumer.drained())) {
      const got = await consumer.read(300, 50);
      await consumer.ackWithResults(got.map((entry) => ({ id: entry.id, lines: map(entry.line) })));
    }
  } finally {
    await consumer.close();
  }
}

test('push, consume, pull: the records come back in order, and a second pull has nothing', async () => {
  const pushed = await runOp(['queue', 'push', queue.url], { input: ndjson(records) });
  assert.is(pushed.status, 0, pushed.stderr);
  assert.is(pushed.stdout, '');
  assert.is(await queue.link.send(['XLEN', queue.keys.in]), 1000);
  await consumeAll(queue.url, (line) => [line]);
  const pulled = await runOp(['queue', 'pull', queue.url]);
  assert.is(pulled.status, 0, pulled.stderr);
  assert.equal(lines(pulled.stdout), records);
  const again = await runOp(['queue', 'pull', queue.url]);
  assert.is(again.stdout, '');
  // Every result names its input entry.
  const ins = (await entries(queue.link, queue.keys.in)).map(([id]) => id);
  assert.equal((await entries(queue.link, queue.keys.out)).map(([, fields]) => fields.in), ins);
});

test('push stores each line as read: BOM, CRLF and blank lines are not part of records; several --in in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'op-queue-'));
  writeFileSync(join(dir, 'two.ndjson'), '{"two":1}\n{"two":2}');
  const result = await runOp(['queue', 'push', queue.url, '--in', '-', '--in', join(dir, 'two.ndjson')], { input: '\ufeff{"a":1}\r\n\n  \n[2]\r\n' });
  rmSync(dir, { recursive: true });
  assert.is(result.status, 0, result.stderr);
  assert.equal((await entries(queue.link, queue.keys.in)).map(([, fields]) => fields.d), ['{"a":1}', '[2]', '{"two":1}', '{"two":2}']);
});

test('invalid JSON: the place and the line are reported, exit 1, and neither it nor anything after it is enqueued', async () => {
  const input = ndjson(records.slice(0, 41)) + '{"i": 41,}\n' + ndjson(records.slice(42, 60));
  const result = await runOp(['queue', 'push', queue.url], { input });
  assert.is(result.status, 1);
  // V8 22+ adds ` (line 1 column 10)`: its part of the message may vary, opkit's must not.
  assert.match(result.stderr.split('\n')[0]!, /^op queue push: stdin:42: SyntaxError: Expected double-quoted property name in JSON at position 9( \(line 1 column 10\))?$/);
  assert.is(result.stderr.split('\n')[1], '  {"i": 41,}');
  assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
  const stored = (await entries(queue.link, queue.keys.in)).map(([, fields]) => JSON.parse(fields.d as string) as unknown);
  assert.equal(stored, records.slice(0, 41));
});

test('invalid UTF-8 is reported with its place too', async () => {
  const result = await runOp(['queue', 'push', queue.url], { input: Buffer.concat([Buffer.from('{"a":1}\n"'), Buffer.from([0xff]), Buffer.from('"\n')]) });
  assert.is(result.status, 1);
  assert.match(result.stderr, /^op queue push: stdin:2: InputError: invalid UTF-8 at byte 2\n/);
  assert.is(await queue.link.send(['XLEN', queue.keys.in]), 1);
});

test('a wrong URL or an unreachable server is one line, no stack', async () => {
  const bad = await runOp(['queue', 'stats', 'redis://127.0.0.1:6379']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /^op queue stats: redis:\/\/127\.0\.0\.1:6379: the queue NAME is missing/);
  const down = await runOp(['queue', 'push', 'redis://127.0.0.1:1/x'], { input: '{}\n' });
  assert.is(down.status, 1);
  assert.match(down.stderr, /^op queue push: redis:\/\/127\.0\.0\.1:1\/x: cannot connect: .*ECONNREFUSED/);
  assert.is(down.stderr.trim().split('\n').length, 1, down.stderr);
});

test('stats: length, pending, delivered, lag, consumers with idle times, dead, out, oldest pending age', async () => {
  await runOp(['queue', 'push', queue.url], { input: ndjson(records.slice(0, 5)) });
  const empty = await runOp(['queue', 'stats', queue.url]);
  assert.equal(lines(empty.stdout), [{ queue: queue.name, group: 'opkit', length: 5, pending: 0, delivered: 0, lag: 5, dead: 0, out: 0, oldestPendingAgeMs: null, consumers: [] }]);
  const consumer = await QueueConsumer.open({ queue: queue.url, heartbeat: false, consumer: 'host:1:0' });
  try {
    const got = await consumer.read(2, 0);
    await consumer.ackWithResult((got[0] as { id: string }).id, ['{"r":1}']);
    const second = await consumer.read(1, 0);
    await consumer.deadLetter((second[0] as { id: string }).id, { line: (second[0] as { line: string }).line, starts: 1, error: new Error('no') });
    const result = await runOp(['queue', 'stats', queue.url]);
    assert.is(result.status, 0, result.stderr);
    const [stats] = lines(result.stdout) as Array<Record<string, unknown>>;
    const { oldestPendingAgeMs, consumers, ...rest } = stats as { oldestPendingAgeMs: number; consumers: Array<{ name: string; pending: number; idleMs: number }> };
    assert.equal(rest, { queue: queue.name, group: 'opkit', length: 5, pending: 1, delivered: 3, lag: 2, dead: 1, out: 1 });
    assert.ok(oldestPendingAgeMs >= 0 && oldestPendingAgeMs < 60_000, String(oldestPendingAgeMs));
    assert.is(consumers.length, 1);
    assert.is(consumers[0]?.name, 'host:1:0');
    assert.is(consumers[0]?.pending, 1);
    assert.ok((consumers[0]?.idleMs ?? -1) >= 0);
  } finally {
    await consumer.close();
  }
});

test('dead prints dead letters as NDJSON; retry-dead moves them back to :in', async () => {
  await runOp(['queue', 'push', queue.url], { input: '{"n":1}\n{"n":2}\n' });
  await redisCli(['XADD', queue.keys.in, '*', 'd', 'not json']);
  const consumer = await QueueConsumer.open({ queue: queue.url, heartbeat: false });
  const got = await consumer.read(10, 0);
  for (const entry of got.slice(1)) await consumer.deadLetter(entry.id, { line: entry.line, starts: 3, error: new RangeError('too far') });
  await consumer.ackAfterWrite([(got[0] as { id: string }).id]);
  await consumer.close();
  const dead = await runOp(['queue', 'dead', queue.url]);
  assert.is(dead.status, 0, dead.stderr);
  const letters = lines(dead.stdout) as Array<Record<string, unknown>>;
  assert.equal(
    letters.map(({ id, input, error, starts }) => ({ id, input, error, starts })),
    got.slice(1).map((entry, k) => ({ id: entry.id, input: k === 0 ? { n: 2 } : 'not json', error: { name: 'RangeError', message: 'too far' }, starts: 3 })),
  );
  const retried = await runOp(['queue', 'retry-dead', queue.url]);
  assert.equal(lines(retried.stdout), [{ retried: 2 }]);
  assert.is(await queue.link.send(['XLEN', queue.keys.dead]), 0);
  assert.equal((await entries(queue.link, queue.keys.in)).slice(3).map(([, fields]) => fields.d), ['{"n":2}', 'not json']);
});

test('trim removes acked entries only: never a pending one, never an undelivered one', async () => {
  await runOp(['queue', 'push', queue.url], { input: ndjson(records.slice(0, 10)) });
  const ids = (await entries(queue.link, queue.keys.in)).map(([id]) => id);
  const consumer = await QueueConsumer.open({ queue: queue.url, heartbeat: false });
  try {
    const got = await consumer.read(8, 0);
    // Entry 4 stays pending; 0-3 and 5-7 are acked; 8 and 9 were never delivered.
    await consumer.ackAfterWrite(got.filter((_, k) => k !== 4).map((entry) => entry.id));
    const first = await runOp(['queue', 'trim', queue.url]);
    assert.is(first.status, 0, first.stderr);
    assert.equal(lines(first.stdout), [{ in: 4, out: 0 }]);
    assert.equal((await entries(queue.link, queue.keys.in)).map(([id]) => id), ids.slice(4));
    await consumer.ackAfterWrite([ids[4] as string]);
    const second = await runOp(['queue', 'trim', queue.url]);
    assert.equal(lines(second.stdout), [{ in: 4, out: 0 }]);
    assert.equal((await entries(queue.link, queue.keys.in)).map(([id]) => id), ids.slice(8), 'undelivered entries stay');
  } finally {
    await consumer.close();
  }
});

test('pull acks after writing: what a killed pull wrote but did not ack is written again, first, by the next pull', async () => {
  for (let i = 0; i < 5; i++) await redisCli(['XADD', queue.keys.out, '*', 'd', JSON.stringify({ i })]);
  await redisCli(['XGROUP', 'CREATE', queue.keys.out, 'opkit', '0']);
  // A pull that read (and wrote) two results, then died before its XACK.
  await redisCli(['XREADGROUP', 'GROUP', 'opkit', 'pull', 'COUNT', '2', 'STREAMS', queue.keys.out, '>']);
  const first = await runOp(['queue', 'pull', queue.url, '--out', '/dev/stdout']);
  assert.is(first.status, 0, first.stderr);
  assert.equal(lines(first.stdout), [0, 1, 2, 3, 4].map((i) => ({ i })));
  await redisCli(['XADD', queue.keys.out, '*', 'd', '{"i":5}']);
  const next = await runOp(['queue', 'pull', queue.url]);
  assert.equal(lines(next.stdout), [{ i: 5 }]);
  assert.is(await queue.link.send(['XLEN', queue.keys.out]), 6, 'acked results stay until trim');
  const trimmed = await runOp(['queue', 'trim', queue.url]);
  assert.equal(lines(trimmed.stdout), [{ in: 0, out: 6 }]);
});

test.run();

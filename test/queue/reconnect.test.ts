import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConsumer } from '../../src/queue/consumer.js';
import { entries, redisCli, scratchQueue, waitFor, type ScratchQueue } from './redis-scratch.js';

let queue: ScratchQueue;
test.before.each(async () => {
  queue = await scratchQueue('reconnect');
});
test.after.each(async () => {
  await queue.remove();
});

/**
 * Kills the server side of every connection of this consumer (commands, reads, heartbeat),
 * as `CLIENT KILL TYPE normal` would, but sparing other clients of the shared server.
 */
async function killConnections(name: string): Promise<number> {
  const list = await redisCli(['CLIENT', 'LIST']);
  const ids = list
    .split('\n')
    .filter((line) => new RegExp(` name=${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\S+)? `).test(line))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] as string);
  for (const id of ids) await redisCli(['CLIENT', 'KILL', 'ID', id]);
  return ids.length;
}

test('a read blocked when its connection is killed comes back after the reconnect and gets the entry', async () => {
  const name = `rc-read-${process.pid}`;
  const consumer = await QueueConsumer.open({ queue: queue.url, consumer: name, visibilityMs: 3000 });
  try {
    const waiting = consumer.read(10, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(await killConnections(name), 3, 'command link, reader and heartbeat');
    const id = await queue.link.send<string>(['XADD', queue.keys.in, '*', 'd', '{"after":"kill"}']);
    const got = await waiting;
    assert.equal(got.map((entry) => entry.id), [id]);
    assert.ok(await consumer.ackWithResult(id, ['{"ok":true}']));
    // The reader and the heartbeat thread reconnected too: each connection is back under its name.
    await waitFor('the reader connection', async () => (await redisCli(['CLIENT', 'LIST'])).includes(` name=${name}:reader `));
    await waitFor('the heartbeat connection', async () => (await redisCli(['CLIENT', 'LIST'])).includes(` name=${name}:heartbeat `));
  } finally {
    await consumer.close();
  }
});

test('acks cut by a killed connection are repeated, and each result is added exactly once', async () => {
  const name = `rc-ack-${process.pid}`;
  const adds: Array<Promise<unknown>> = [];
  for (let i = 0; i < 2000; i++) adds.push(queue.link.send(['XADD', queue.keys.in, '*', 'd', String(i)]));
  await Promise.all(adds);
  const consumer = await QueueConsumer.open({ queue: queue.url, consumer: name, heartbeat: false });
  try {
    const got = await consumer.read(2000, 0);
    assert.is(got.length, 2000);
    // Many small scripts in flight while the connection dies under them.
    const acking = Promise.all(got.map((entry) => consumer.ackWithResult(entry.id, [`{"r":${entry.line}}`])));
    await killConnections(name);
    await acking;
    const out = await entries(queue.link, queue.keys.out);
    assert.is(out.length, 2000);
    assert.is(new Set(out.map(([, fields]) => fields.in)).size, 2000);
    assert.ok(await consumer.drained());
  } finally {
    await consumer.close();
  }
});

test('entries delivered by a reply lost with the connection are not lost: they come back from the pending list', async () => {
  const name = `rc-lost-${process.pid}`;
  const consumer = await QueueConsumer.open({ queue: queue.url, consumer: name, heartbeat: false });
  try {
    assert.equal(await consumer.read(10, 0), []);
    // Delivered to this consumer behind its back, as an XREADGROUP whose reply died with the connection.
    const id = await queue.link.send<string>(['XADD', queue.keys.in, '*', 'd', '1']);
    await redisCli(['XREADGROUP', 'GROUP', 'opkit', name, 'STREAMS', queue.keys.in, '>']);
    await killConnections(name);
    await waitFor('a reconnect', async () => (await redisCli(['CLIENT', 'LIST'])).includes(` name=${name} `));
    const got = await consumer.read(10, 0);
    assert.equal(got.map((entry) => ({ id: entry.id, redelivered: entry.redelivered })), [{ id, redelivered: true }]);
    assert.equal(await consumer.read(10, 0), [], 'not handed out twice');
  } finally {
    await consumer.close();
  }
});

test.run();

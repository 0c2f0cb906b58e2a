import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConsumer, type QueueEntry } from '../../src/queue/consumer.js';
import { ROOT } from '../helpers/run-op.js';
import { entries, scratchQueue, waitFor, type ScratchQueue } from './redis-scratch.js';

let queue: ScratchQueue;
test.before.each(async () => {
  queue = await scratchQueue('heartbeat');
});
test.after.each(async () => {
  await queue.remove();
});

const BUSY_CONSUMER = join(ROOT, 'dist/test/queue/busy-consumer.js');
/** Visibility 1500 ms, so heartbeats every 500 ms; the handler spins 3x as long. */
const VISIBILITY_MS = 1500;
const BUSY_MS = 4500;

/**
 * Runs the busy consumer on one entry and, while its main thread spins, lets a second
 * consumer try to claim entries idle past the visibility timeout every 100 ms.
 */
async function race(heartbeat: boolean): Promise<{ claimed: QueueEntry[]; acked: boolean; deliveries: number }> {
  await queue.link.send(['XADD', queue.keys.in, '*', 'd', '{"slow":true}']);
  const child = spawn(process.execPath, [BUSY_CONSUMER, queue.url, 'busy', String(VISIBILITY_MS), String(BUSY_MS), heartbeat ? '1' : '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const other = await QueueConsumer.open({ queue: queue.url, consumer: 'other', heartbeat: false, visibilityMs: VISIBILITY_MS });
  const claimed: QueueEntry[] = [];
  let deliveries = 0;
  try {
    await waitFor('the busy consumer to read', () => out.includes('"read"'));
    while (!out.includes('"acked"') && child.exitCode === null) {
      claimed.push(...(await other.claimIdle(VISIBILITY_MS, 10)));
      const pending = await queue.link.send<Array<[string, string, number, number]>>(['XPENDING', queue.keys.in, 'opkit', '-', '+', '10']);
      for (const [, , , count] of pending) deliveries = Math.max(deliveries, count);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await other.close();
  }
  assert.is(await exited, 0);
  const acked = (JSON.parse(out.trim().split('\n').pop() as string) as { acked: boolean }).acked;
  return { claimed, acked, deliveries };
}

test('the heartbeat thread keeps an entry of a busy handler from being claimed past the visibility timeout', async () => {
  const { claimed, acked, deliveries } = await race(true);
  assert.equal(claimed, [], 'nobody else got it');
  assert.is(deliveries, 1, 'heartbeats do not count as deliveries');
  assert.ok(acked);
  const [pending] = await queue.link.send<Array<[string, string, number, number]>>(['XPENDING', queue.keys.in, 'opkit', '-', '+', '10']);
  assert.is(pending, undefined, 'nothing pending');
  const stream = await entries(queue.link, queue.keys.out);
  assert.is(stream.length, 1);
});

test('without it, the same entry is claimed by the other consumer (the test can fail)', async () => {
  const { claimed, acked, deliveries } = await race(false);
  assert.is(claimed.length, 1);
  assert.ok(deliveries >= 2, String(deliveries));
  // Exactly once all the same: whoever acks first adds the result; here the busy one.
  assert.ok(acked);
});

test.run();

// A consumer whose handler keeps the main thread busy: reads one entry, spins for BUSY_MS
// without yielding, then acks it with a result. Prints {"read":id} and {"acked":bool}.
// Usage: node busy-consumer.js URL NAME VISIBILITY_MS BUSY_MS HEARTBEAT(0|1)
import { QueueConsumer } from '../../src/queue/consumer.js';

const [url, name, visibility, busy, heartbeat] = process.argv.slice(2);
const consumer = await QueueConsumer.open({ queue: url as string, consumer: name, visibilityMs: Number(visibility), heartbeat: heartbeat === '1' });
const [entry] = await consumer.read(1, 5000);
if (!entry) throw new Error('nothing to read');
process.stdout.write(JSON.stringify({ read: entry.id }) + '\n');
const end = Date.now() + Number(busy);
while (Date.now() < end) {
  // A synchronous handler: no timer of this thread can run until it returns.
}
const acked = await consumer.ackWithResult(entry.id, [entry.line]);
process.stdout.write(JSON.stringify({ acked }) + '\n');
await consumer.close();

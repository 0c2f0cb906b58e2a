import { EXIT } from '../core/exit-codes.js';
import { commandFailed, connectQueue } from './connect-queue.js';
import { parseQueueUrl } from './queue-url.js';
import { TRIM_ACKED } from './scripts.js';

/**
 * `op queue trim`: removes from `:in` and `:out` the entries every consumer group has
 * acked, never a pending or an undelivered one (XTRIM MINID, bound computed in the same
 * script). A stream without a group keeps everything: nothing was acked. Prints
 * `{"in":N,"out":M}`, the entries removed.
 */
export async function runQueueTrim(options: { queue: string }): Promise<number> {
  const address = parseQueueUrl(options.queue);
  const link = await connectQueue(address, 'op-queue-trim');
  try {
    const [fromIn, fromOut] = await Promise.all([link.run<number>(TRIM_ACKED, [address.keys.in], []), link.run<number>(TRIM_ACKED, [address.keys.out], [])]);
    process.stdout.write(`{"in":${fromIn},"out":${fromOut}}\n`);
  } catch (error) {
    throw commandFailed(address, 'trim', error);
  } finally {
    await link.close();
  }
  return EXIT.ok;
}

import { EXIT, exitCodeForSignal } from '../core/exit-codes.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { commandFailed, connectQueue } from './connect-queue.js';
import { ensureGroup } from './ensure-group.js';
import { parseQueueUrl, type QueueAddress } from './queue-url.js';
import type { RedisLink } from './redis-client.js';
import { entriesOfRead, fieldOf } from './stream-replies.js';

export interface PullOptions {
  queue: string;
  group: string;
  /** The consumer name in the group of `:out`; a pull that was killed resumes under it. */
  consumer: string;
  output: string | undefined;
  /** Keep waiting for new results until SIGINT/SIGTERM. */
  follow: boolean;
}

/** Results per read: one joined write and one XACK per page. */
const PAGE = 1000;
/** How long one wait for new results lasts with --follow, so a signal is seen within it. */
const FOLLOW_BLOCK_MS = 1000;

/**
 * `op queue pull`: writes the results in `:out` to stdout and acks them in the group of
 * `:out`, after the write. At least once: a pull killed between a write and its ack
 * leaves those entries pending under its consumer name, and the next pull under the same
 * name writes them first. Acked entries stay in `:out` until `op queue trim`.
 */
export async function runQueuePull(options: PullOptions): Promise<number> {
  const address = parseQueueUrl(options.queue);
  const sink = openSink(options.output);
  const link = await connectQueue(address, 'op-queue-pull');
  let signal: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    signal ??= name;
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  let failure: unknown;
  try {
    await ensureGroup(link, address.keys.out, options.group);
    await pullAll(link, address, options, sink, () => signal !== undefined);
  } catch (error) {
    failure = commandFailed(address, 'pull', error);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await link.close();
  }
  failure ??= await endOutputs(sink);
  if (failure !== undefined) throw failure;
  return signal ? exitCodeForSignal(signal) : EXIT.ok;
}

/**
 * Page by page: the next page is asked for as soon as one arrives, so it comes while this
 * one is written, and a page's XACK goes out after its write without being waited for (the
 * next page's ack waits for it). A page asked for and not written (a signal came) stays
 * pending under this consumer's name, for the next pull.
 */
async function pullAll(link: RedisLink, address: QueueAddress, options: PullOptions, sink: Sink, stopped: () => boolean): Promise<void> {
  // First what an earlier pull under this name wrote but did not ack, then new results.
  let from: string | undefined = '0';
  const read = (): Promise<unknown> => {
    const block = from === undefined && options.follow ? ['BLOCK', String(FOLLOW_BLOCK_MS)] : [];
    const reply = link.send(['XREADGROUP', 'GROUP', options.group, options.consumer, 'COUNT', String(PAGE), ...block, 'STREAMS', address.keys.out, from ?? '>']);
    // A page still coming when the pull ends (its output closed) is not waited for.
    reply.catch(() => undefined);
    return reply;
  };
  const more = (): boolean => !stopped() && !sink.closed;
  let acked: Promise<unknown> = Promise.resolve();
  let thrown = false;
  try {
    let next = more() ? read() : undefined;
    while (next !== undefined) {
      const entries = entriesOfRead(await next);
      next = undefined;
      if (entries.length === 0) {
        if (from !== undefined) from = undefined;
        else if (!options.follow) return;
        if (more()) next = read();
        continue;
      }
      if (from !== undefined) from = (entries[entries.length - 1] as { id: string }).id;
      if (more()) next = read();
      let text = '';
      for (const { fields } of entries) {
        const line = fieldOf(fields, 'd');
        if (typeof line === 'string') text += line + '\n';
      }
      await sink.write(text);
      // Output went away (`| head`): what was not written stays pending for the next pull.
      if (sink.closed) return;
      await acked;
      acked = link.send(['XACK', address.keys.out, options.group, ...entries.map((entry) => entry.id)]);
      // Awaited by the next page or at the end; a failure is not left unhandled meanwhile.
      acked.catch(() => undefined);
    }
  } catch (error) {
    thrown = true;
    throw error;
  } finally {
    // A failure of the pull's own is the one reported, not a failed ack behind it.
    await (thrown ? acked.catch(() => undefined) : acked);
  }
}

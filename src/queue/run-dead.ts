import { EXIT } from '../core/exit-codes.js';
import { endOutputs, openSink } from '../io/open-sink.js';
import { commandFailed, connectQueue } from './connect-queue.js';
import { parseQueueUrl } from './queue-url.js';
import { RETRY_DEAD } from './scripts.js';
import { fieldOf, type RawEntry } from './stream-replies.js';

export interface DeadOptions {
  queue: string;
  output: string | undefined;
}

/** Dead letters read per XRANGE: a page of output, never the whole stream in memory. */
const PAGE = 1000;

/**
 * `op queue dead`: each entry of `:dead` as one line, in the shape of `--errors` files:
 * `{"id":<input entry id>,"input":<record>,"error":{"name","message"},"starts":N,"consumer":…,"deadId":…}`.
 * The record is written as it was stored; a line that is not JSON appears as a string.
 */
export async function runQueueDead(options: DeadOptions): Promise<number> {
  const address = parseQueueUrl(options.queue);
  const sink = openSink(options.output);
  const link = await connectQueue(address, 'op-queue-dead');
  let failure: unknown;
  try {
    for (let from = '-'; !sink.closed; ) {
      const page = await link.send<RawEntry[]>(['XRANGE', address.keys.dead, from, '+', 'COUNT', String(PAGE)]);
      if (page.length === 0) break;
      await sink.write(page.map(([id, fields]) => deadLine(id, fields ?? [])).join(''));
      if (page.length < PAGE) break;
      from = `(${(page[page.length - 1] as RawEntry)[0]}`;
    }
  } catch (error) {
    failure = commandFailed(address, 'reading dead letters', error);
  } finally {
    await link.close();
  }
  failure ??= await endOutputs(sink);
  if (failure !== undefined) throw failure;
  return EXIT.ok;
}

function deadLine(deadId: string, fields: string[]): string {
  const line = String(fieldOf(fields, 'd') ?? '');
  const error = String(fieldOf(fields, 'error') ?? '{"name":"Error","message":""}');
  return `{"id":${JSON.stringify(fieldOf(fields, 'in') ?? null)},"input":${asJson(line)},"error":${asJson(error)},"starts":${Number(fieldOf(fields, 'starts') ?? 0)},"consumer":${JSON.stringify(fieldOf(fields, 'consumer') ?? null)},"deadId":${JSON.stringify(deadId)}}\n`;
}

/** The text itself when it is JSON (no re-serialising), else the text as a JSON string. */
function asJson(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

/** `op queue retry-dead`: moves every dead letter back to `:in` as a new entry, a page per script. Prints `{"retried":N}`. */
export async function runQueueRetryDead(options: { queue: string }): Promise<number> {
  const address = parseQueueUrl(options.queue);
  const link = await connectQueue(address, 'op-queue-retry-dead');
  let retried = 0;
  try {
    for (;;) {
      const moved = await link.run<number>(RETRY_DEAD, [address.keys.dead, address.keys.in], [String(PAGE)]);
      retried += moved;
      if (moved < PAGE) break;
    }
  } catch (error) {
    throw commandFailed(address, 'retry-dead', error);
  } finally {
    await link.close();
  }
  process.stdout.write(`{"retried":${retried}}\n`);
  return EXIT.ok;
}

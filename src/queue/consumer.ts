import { causeParts } from '../core/errors.js';
import { consumerName } from './consumer-name.js';
import { ensureGroup } from './ensure-group.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { parseQueueUrl, type QueueAddress } from './queue-url.js';
import { openLink, isReplyError, isTransient, reconnectDelayMs, type LuaScript, type RedisLink } from './redis-client.js';
import { ACK, ACK_WITH_RESULTS, DEAD_LETTER, DRAIN_STATE, FORGET_CONSUMER, NOTE_STARTS } from './scripts.js';
import { entriesOfClaim, entriesOfRead, fieldOf, type StreamEntry } from './stream-replies.js';
import { compareIds, idRange } from './stream-id.js';

/** One input entry handed to the engine. */
export interface QueueEntry {
  /** The stream id, `1700000000000-0`: what the engine acks or dead-letters. */
  id: string;
  /** The NDJSON line of field `d`, as the producer wrote it (not parsed). */
  line: string;
  /**
   * Handler starts so far (before this delivery); compare with --max-deliveries. 0 for a
   * first delivery. A redelivered entry counts its first delivery as one start (the
   * engine runs every entry it reads, and records no start for a first delivery), plus
   * the starts noted since.
   */
  starts: number;
  /**
   * Delivered before: this consumer's own pending entries at start-up, or entries claimed
   * from a consumer that went quiet. Run these one at a time, so a crash names its record.
   */
  redelivered: boolean;
}

export interface ConsumerOptions {
  /** `redis://[user:pass@]host[:port][/db]/NAME`, or an address already parsed. */
  queue: string | QueueAddress;
  /** Consumer group; default `opkit`. */
  group?: string;
  /** This process's rank, the last part of the consumer name `host:pid:rank`. */
  rank?: number;
  /** Overrides the consumer name. */
  consumer?: string;
  /** An entry idle longer than this is claimed by another consumer; default 60000. */
  visibilityMs?: number;
  /** Extend this consumer's entries every visibility/3 from a thread of its own; default true. */
  heartbeat?: boolean;
  /** Told when a connection is lost (the consumer reconnects by itself). */
  log?: (message: string) => void;
  /**
   * Where ackWithResults adds results: another queue's `:out` on the same server (under
   * Redis Cluster, the same queue, since the script touches both keys); default this queue's.
   */
  resultsKey?: string | undefined;
}

/** A failed record on its way to `:dead`. */
export interface DeadLetter {
  line: string;
  /** Handler starts of the record (what --max-deliveries counts). */
  starts: number;
  /** The last error: anything thrown, reported as `{name, message}`. */
  error: unknown;
}

export const DEFAULT_GROUP = 'opkit';
export const DEFAULT_VISIBILITY_MS = 60_000;
/** Ids per script call: Lua's unpack() overflows past ~8000 values. */
const IDS_PER_CALL = 1000;

/** The shape of a script's reply: one integer per id. */
const numbers =
  (count: number) =>
  (reply: unknown): boolean =>
    Array.isArray(reply) && reply.length === count && reply.every((n) => typeof n === 'number');
/** The shape of a script's reply: one integer. */
const isCount = (reply: unknown): boolean => typeof reply === 'number';

/**
 * A consumer of `opkit:{NAME}:in`, the queue side of the engine's trunk. Delivery is at
 * least once; the engine makes results exactly once with ackWithResults, and bounds
 * redelivery with noteStarts and deadLetter:
 *
 *   entries = await consumer.read(max, blockMs)      // own pending, idle claimed, then new
 *   first delivery: starts = 1, nothing to record    // read means run: the start is implied
 *   redelivered: starts = await consumer.noteStarts(ids)  // just before running; 0: skip it
 *   (starts > --max-deliveries, or retries spent) → consumer.deadLetter(id, {line, starts, error})
 *   --to → consumer.ackWithResults([{id, lines}]);  stdout → write, flush, consumer.ackAfterWrite(ids)
 *   empty read and --drain → consumer.drained();  SIGINT → interrupt(), finish, close()
 *
 * Every method retries across a lost connection, and none acks an entry it was not told
 * to. The heartbeat extends every entry this consumer owns, read or running, for as long
 * as the process lives: a handler that never returns holds its entry until --timeout
 * stops it or the process dies.
 */
export class QueueConsumer {
  /** The entries handed out by read()/claimIdle() and not yet acked, dead-lettered or lost. */
  private readonly held = new Set<string>();
  /** Re-reading our own pending entries from this id; undefined once they are all read. */
  private historyFrom: string | undefined = '0';
  private claimCursor = '0-0';
  private lastClaimAt = 0;
  private readerId: number | undefined;
  private closed = false;
  private resultsKey: string;

  private constructor(
    readonly address: QueueAddress,
    readonly group: string,
    readonly name: string,
    readonly visibilityMs: number,
    private readonly link: RedisLink,
    private readonly reader: RedisLink,
    private readonly heartbeat: Heartbeat | undefined,
  ) {
    this.resultsKey = address.keys.out;
  }

  /** Connects (a command link, a reading link, the heartbeat thread) and creates the group if needed. */
  static async open(options: ConsumerOptions): Promise<QueueConsumer> {
    const address = typeof options.queue === 'string' ? parseQueueUrl(options.queue) : options.queue;
    const group = options.group ?? DEFAULT_GROUP;
    const name = options.consumer ?? consumerName(options.rank ?? 0);
    const visibilityMs = options.visibilityMs ?? DEFAULT_VISIBILITY_MS;
    const onLost = (error: Error): void => options.log?.(`${address.shown}: connection lost (${error.message}); reconnecting`);
    let consumer: QueueConsumer | undefined;
    // A reply lost with the connection may have delivered entries to us: read our own pending entries again.
    const onBack = (): void => consumer?.rescan();
    const link = await openLink({ url: address.server, reconnect: true, onLost, onBack, name });
    let reader: RedisLink | undefined;
    try {
      reader = await openLink({ url: address.server, reconnect: true, onBack, name: `${name}:reader` });
      await ensureGroup(link, address.keys.in, group);
      const heartbeat = options.heartbeat === false ? undefined : await startHeartbeat({ server: address.server, stream: address.keys.in, group, consumer: name, everyMs: Math.max(1, Math.floor(visibilityMs / 3)) });
      consumer = new QueueConsumer(address, group, name, visibilityMs, link, reader, heartbeat);
      if (options.resultsKey !== undefined) consumer.resultsKey = options.resultsKey;
      return consumer;
    } catch (error) {
      link.destroy();
      reader?.destroy();
      throw error;
    }
  }

  /**
   * Up to `max` entries: first this consumer's own pending ones (left by a run that
   * stopped), then, every visibility/4, entries idle past the visibility timeout claimed
   * from other consumers, then new ones, waiting up to `blockMs` for them (on a connection
   * of its own, so acks are not held up; 0: no wait). [] when none came in time.
   */
  async read(max: number, blockMs: number): Promise<QueueEntry[]> {
    while (this.historyFrom !== undefined && !this.closed) {
      const from = this.historyFrom;
      const reply = await this.retrying(this.link, () => this.link.send(['XREADGROUP', 'GROUP', this.group, this.name, 'COUNT', String(max), 'STREAMS', this.address.keys.in, from]));
      const entries = entriesOfRead(reply);
      const last = entries[entries.length - 1];
      // A history read can only move forward; a lost connection sets it back to '0'.
      if (this.historyFrom === from) this.historyFrom = last === undefined ? undefined : last.id;
      const own = await this.take(entries, true);
      if (own.length) return own;
    }
    if (this.closed) return [];
    if (Date.now() - this.lastClaimAt >= this.visibilityMs / 4) {
      const claimed = await this.claimIdle(this.visibilityMs, max);
      if (claimed.length) return claimed;
    }
    const reply = await this.retrying(this.reader, async () => {
      this.readerId ??= await this.reader.send<number>(['CLIENT', 'ID']);
      // BLOCK 0 would wait forever; 0 here means "do not wait".
      const block = blockMs > 0 ? ['BLOCK', String(Math.ceil(blockMs))] : [];
      return this.reader.send(['XREADGROUP', 'GROUP', this.group, this.name, 'COUNT', String(max), ...block, 'STREAMS', this.address.keys.in, '>']);
    });
    return this.take(entriesOfRead(reply), false);
  }

  /**
   * Claims up to `max` entries that no consumer touched for `visibilityMs` (XAUTOCLAIM,
   * which counts a delivery). Live consumers' entries are never idle that long: their
   * heartbeats reset the idle time every visibility/3.
   */
  async claimIdle(visibilityMs = this.visibilityMs, max = 100): Promise<QueueEntry[]> {
    this.lastClaimAt = Date.now();
    const reply = await this.retrying(this.link, () => this.link.send(['XAUTOCLAIM', this.address.keys.in, this.group, this.name, String(visibilityMs), this.claimCursor, 'COUNT', String(max)]));
    const { cursor, entries, deleted } = entriesOfClaim(reply);
    this.claimCursor = cursor;
    // XAUTOCLAIM (Redis 7.0+) drops entries deleted while pending; their start counts go too.
    if (deleted.length) await this.retrying(this.link, () => this.link.send(['HDEL', this.address.keys.starts, ...deleted]));
    return this.take(entries, true);
  }

  /**
   * Records one handler start for each redelivered entry, just before the engine starts
   * it; returns per id the starts so far including this one and the first delivery's
   * (implied: see QueueEntry.starts). 0: the entry is no longer this consumer's (claimed
   * by another after a stall), so the engine must not run it. A first delivery records
   * nothing: a chunk's start would otherwise cost a round trip and ~5 µs of Redis CPU per
   * entry. The price is that an entry read but never started (its consumer died first)
   * counts one start too many, which errs towards dead-lettering.
   */
  async noteStarts(ids: string[]): Promise<number[]> {
    const counts: number[] = [];
    for (let k = 0; k < ids.length; k += IDS_PER_CALL) {
      const slice = ids.slice(k, k + IDS_PER_CALL);
      counts.push(...(await this.script<number[]>(NOTE_STARTS, [this.address.keys.in, this.address.keys.starts], [this.group, this.name, ...idRange(slice), ...slice], numbers(slice.length))));
    }
    ids.forEach((id, k) => {
      if (counts[k] === 0) this.held.delete(id);
    });
    return counts.map((count) => (count === 0 ? 0 : count + 1));
  }

  async noteStart(id: string): Promise<number> {
    return (await this.noteStarts([id]))[0] ?? 0;
  }

  /**
   * `--to`: acks each entry and adds its output lines (zero or more, each one NDJSON line
   * without its newline) to `:out` as entries `d=<line> in=<input id>`, in one
   * script; the lines are added only if this ack removed a pending entry, so a record
   * finished by two consumers yields one result. Returns per entry whether it was acked
   * here. Safe to repeat after a lost connection: a second run finds nothing to ack.
   */
  async ackWithResults(results: Array<{ id: string; lines: string[] }>): Promise<boolean[]> {
    const done: boolean[] = [];
    for (let k = 0; k < results.length; k += IDS_PER_CALL) {
      const slice = results.slice(k, k + IDS_PER_CALL);
      const args = [this.group, ...idRange(slice.map(({ id }) => id))];
      for (const { id, lines } of slice) args.push(id, String(lines.length), ...lines);
      const acked = await this.script<number[]>(ACK_WITH_RESULTS, [this.address.keys.in, this.resultsKey, this.address.keys.starts], args, numbers(slice.length));
      done.push(...acked.map((n) => n === 1));
    }
    for (const { id } of results) this.held.delete(id);
    return done;
  }

  async ackWithResult(id: string, lines: string[]): Promise<boolean> {
    return (await this.ackWithResults([{ id, lines }]))[0] ?? false;
  }

  /**
   * stdout: acks entries whose output was already written and flushed. At least once: a
   * consumer killed between the write and the ack writes those records again after
   * redelivery. Returns the number acked.
   */
  async ackAfterWrite(ids: string[]): Promise<number> {
    let acked = 0;
    for (let k = 0; k < ids.length; k += IDS_PER_CALL) {
      acked += await this.script<number>(ACK, [this.address.keys.in, this.address.keys.starts], [this.group, ...ids.slice(k, k + IDS_PER_CALL)], isCount);
    }
    for (const id of ids) this.held.delete(id);
    return acked;
  }

  /** Moves an entry to `:dead` (its line, starts, last error, consumer) and acks it, in one script. */
  async deadLetter(id: string, dead: DeadLetter): Promise<boolean> {
    const error = JSON.stringify(causeParts(dead.error));
    const moved = await this.script<number>(DEAD_LETTER, [this.address.keys.in, this.address.keys.dead, this.address.keys.starts], [this.group, id, dead.line, String(dead.starts), error, this.name], isCount);
    this.held.delete(id);
    return moved === 1;
  }

  /** True when the stream has no entry left to deliver to the group and none pending, here or elsewhere. */
  async drained(): Promise<boolean> {
    const state = await this.script<[string, string, number] | []>(DRAIN_STATE, [this.address.keys.in], [this.group], (reply) => Array.isArray(reply) && (reply.length === 0 || reply.length === 3));
    if (state.length === 0) {
      // The stream or the group is gone (a Redis restart without persistence): start over.
      await this.retrying(this.link, () => ensureGroup(this.link, this.address.keys.in, this.group));
      return false;
    }
    const [lastAdded, lastDelivered, pending] = state;
    return Number(pending) === 0 && compareIds(lastAdded, lastDelivered) <= 0;
  }

  /** Cuts a read() blocked waiting for new entries short; it returns []. */
  async interrupt(): Promise<void> {
    if (this.readerId === undefined) return;
    await this.link.send(['CLIENT', 'UNBLOCK', String(this.readerId)]).catch(() => undefined);
  }

  /**
   * Stops the heartbeat and closes the connections. Entries still held stay pending and are
   * claimed by other consumers after the visibility timeout. A consumer that holds nothing
   * is removed from the group, so `op queue stats` lists live consumers only.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.heartbeat?.stop();
    await this.interrupt();
    await this.link.run(FORGET_CONSUMER, [this.address.keys.in], [this.group, this.name]).catch(() => undefined);
    await Promise.all([this.reader.close(), this.link.close()]);
  }

  private rescan(): void {
    this.historyFrom = '0';
    this.readerId = undefined;
  }

  /** The entries of a read, minus those this consumer holds already; deleted and malformed ones are settled here. */
  private async take(entries: StreamEntry[], redelivered: boolean): Promise<QueueEntry[]> {
    const fresh: QueueEntry[] = [];
    const gone: string[] = [];
    for (const { id, fields } of entries) {
      if (this.held.has(id)) continue;
      if (fields === null) {
        // Deleted from the stream (XDEL, or trimmed by hand) while pending: nothing to run.
        gone.push(id);
        continue;
      }
      const line = fieldOf(fields, 'd');
      if (typeof line !== 'string') {
        this.held.add(id);
        const names = fields.filter((_, k) => k % 2 === 0).join(', ');
        await this.deadLetter(id, { line: '', starts: 0, error: new TypeError(`entry has no field d (fields: ${names || 'none'})`) });
        continue;
      }
      this.held.add(id);
      fresh.push({ id, line, starts: 0, redelivered });
    }
    if (gone.length) await this.ackAfterWrite(gone);
    if (redelivered && fresh.length) {
      const starts = await this.retrying(this.link, () => this.link.send<Array<string | null>>(['HMGET', this.address.keys.starts, ...fresh.map((entry) => entry.id)]));
      fresh.forEach((entry, k) => {
        entry.starts = 1 + Number(starts[k] ?? 0);
      });
    }
    return fresh;
  }

  private script<T>(script: LuaScript, keys: string[], args: string[], expect?: (reply: unknown) => boolean): Promise<T> {
    return this.retrying(this.link, () => this.link.run<T>(script, keys, args, expect));
  }

  /**
   * Runs `command` until it gets a reply. After a lost connection it waits for the link to
   * come back and runs it again; the commands and scripts here are safe to repeat (a repeat
   * of NOTE_STARTS may count one start too many, which errs towards dead-lettering). A lost
   * read may have delivered entries to us, so our own pending entries are read again.
   */
  private async retrying<T>(link: RedisLink, command: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await command();
      } catch (error) {
        if (isReplyError(error, 'NOGROUP')) {
          await ensureGroup(this.link, this.address.keys.in, this.group);
          continue;
        }
        if (this.closed || !isTransient(error)) throw error;
        this.rescan();
        await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(attempt)));
        await link.ready();
      }
    }
  }
}

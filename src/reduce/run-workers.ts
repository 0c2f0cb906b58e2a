import { read } from 'node:fs';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { OpError, RecordError } from '../core/errors.js';
import type { DeadLetter } from '../records/record-runner.js';
import type { Sink } from '../io/open-sink.js';
import type { ReduceStats } from './reduce-step.js';
import type { FromWorker, ReduceWorkerData, ToWorker } from './reduce-worker.js';
import { isBlankBytes } from '../io/is-blank-line.js';
import { findSuspects } from '../io/scan-numbers.js';
import { BLANK, ByteKeyRouter } from './route-bytes.js';

/** Reads in flight per worker: with 2, workers and reader sat idle ~40% of the time waiting on each other. */
const IN_FLIGHT = 4;
/** 1 MiB reads: one message per worker per read. */
export const WORKER_READ_BYTES = 1 << 20;
const readFd = promisify(read);

interface Lane {
  worker: Worker;
  records: number;
  /** Resolved when an ack frees a slot, a piece of output arrives, or something fails. */
  wake: (() => void) | undefined;
  pieces: string[];
  stats: ReduceStats | undefined;
  /** The shared memory of each read sent and not yet acked (its reads in flight), oldest first: a worker acks in order. */
  sent: Room[];
}

/** The shared memory of one read, handed to every worker; reused once all have acked it. */
interface Room {
  bytes: SharedArrayBuffer;
  holders: number;
}

/**
 * A pooled read's memory: a read and the unfinished line before it (a longer line takes
 * memory of its own). Without the pool, a new SharedArrayBuffer per read was freed only
 * when the main thread's small heap was next collected: peak RSS 276 MiB against 170.
 */
const ROOM_BYTES = WORKER_READ_BYTES + 64 * 1024;

/**
 * `-w N`: N worker threads, each holding the state of the keys that hash to it (the hash of
 * `op shard --by key`). The main thread cuts each read into lines and scans each line's
 * key as bytes, without decoding it; each worker gets its own lines in one message per
 * read (moved, not copied) and decodes, parses and reduces only those. At end of input,
 * worker 0's groups are written first, then worker 1's, and so on, each worker's in the
 * order its keys first appeared.
 */
export class ReduceWorkers {
  errors = 0;
  private readonly lanes: Lane[];
  private failure: unknown;
  private rest: Buffer | undefined;
  private atFirstLine = true;
  private readonly router: ByteKeyRouter;

  constructor(
    count: number,
    data: ReduceWorkerData,
    private readonly deadLetter: ((entry: DeadLetter) => void) | undefined,
    private readonly maxErrors: number | undefined,
  ) {
    this.router = new ByteKeyRouter(data.step.key, count);
    const url = new URL('../reduce/reduce-worker.js', import.meta.url);
    this.lanes = Array.from({ length: count }, (_, k) => {
      const lane: Lane = {
        worker: new Worker(url, { workerData: { ...data, worker: k } satisfies ReduceWorkerData }),
        records: 0,
        wake: undefined,
        pieces: [],
        stats: undefined,
        sent: [],
      };
      lane.worker.on('message', (message: FromWorker) => this.receive(lane, message));
      lane.worker.on('error', (error) => this.fail(error));
      return lane;
    });
  }

  /** Records taken by the workers so far. */
  get records(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.records, 0);
  }

  startSource(name: string): void {
    this.rest = undefined;
    this.atFirstLine = true;
    for (const lane of this.lanes) this.post(lane, { type: 'source', source: name });
  }

  /** Cuts one read at its last newline and hands its whole lines to every worker; resolves once each has room for more. */
  async push(bytes: Buffer): Promise<void> {
    // A read without a newline only lengthens the unfinished line, in plain memory.
    if (bytes.lastIndexOf(10) < 0) {
      this.rest = this.rest ? Buffer.concat([this.rest, bytes]) : Buffer.from(bytes);
      return;
    }
    // The lines go straight into the shared memory the workers read, after the unfinished line of the last read.
    const { room, shared, head } = this.afterRest(bytes.length);
    bytes.copy(shared, head);
    await this.shareLines(room, shared, head + bytes.length);
  }

  /**
   * A regular file, read by descriptor straight into the shared memory the workers read,
   * after the unfinished line of the read before: a stream's read copied into shared memory
   * took V8's relaxed-atomic memmove, ~14% of the main thread's CPU over 1M records.
   */
  async pushFile(fd: number, count: (bytes: number) => void, stopped: () => boolean): Promise<void> {
    let plain: Buffer | undefined;
    for (let position = 0; !stopped(); ) {
      // While a line longer than a room is unfinished, reads go to plain memory (push), not
      // to a new shared buffer of the line's length each.
      const long = (this.rest?.length ?? 0) + WORKER_READ_BYTES > ROOM_BYTES;
      const target = long ? undefined : this.afterRest(WORKER_READ_BYTES);
      if (long) plain ??= Buffer.allocUnsafe(WORKER_READ_BYTES);
      const into = target?.shared ?? plain!;
      const at = target?.head ?? 0;
      const { bytesRead } = await readFd(fd, into, at, WORKER_READ_BYTES, position);
      if (bytesRead === 0) {
        if (target) this.release(target.room);
        return;
      }
      position += bytesRead;
      count(bytesRead);
      if (target) await this.shareLines(target.room, target.shared, at + bytesRead);
      else await this.push(into.subarray(0, bytesRead));
    }
  }

  /** The last line, when the input does not end in a newline. */
  async endSource(): Promise<void> {
    if (!this.rest) return;
    const { room, shared, head } = this.afterRest(0);
    this.rest = undefined;
    await this.share(shared.subarray(0, head), room);
  }

  /** Shared memory that starts with the unfinished line of the last read (`head` bytes), with room for `more` after it. */
  private afterRest(more: number): { room: Room; shared: Buffer; head: number } {
    const head = this.rest?.length ?? 0;
    const room = this.room(head + more);
    const shared = Buffer.from(room.bytes);
    this.rest?.copy(shared, 0);
    return { room, shared, head };
  }

  /** Hands the whole lines of `shared[0, end)` to every worker and keeps its unfinished last line for the next read. */
  private async shareLines(room: Room, shared: Buffer, end: number): Promise<void> {
    const last = shared.lastIndexOf(10, end - 1);
    // Copied out, so it does not pin the read's memory.
    this.rest = last + 1 < end ? Buffer.from(shared.subarray(last + 1, end)) : undefined;
    if (last >= 0) await this.share(shared.subarray(0, last + 1), room);
    else this.release(room);
  }

  /** Rooms every worker has acked, ready for the next read. */
  private readonly spare: Room[] = [];

  /** Shared memory for a read of up to `length` bytes: a spare room, or a new one. */
  private room(length: number): Room {
    if (length <= ROOM_BYTES) {
      const spare = this.spare.pop();
      if (spare) return spare;
    }
    return { bytes: new SharedArrayBuffer(Math.max(length, ROOM_BYTES)), holders: 0 };
  }

  /** A room no worker holds: pooled when of the usual size, else left to the collector. */
  private release(room: Room): void {
    if (room.bytes.byteLength === ROOM_BYTES) this.spare.push(room);
  }

  /** Per line of one read: its worker, or BLANK; reused from read to read. */
  private owner = new Uint16Array(1024);
  /** Per line of one read: the offset of its newline (or of the end); reused from read to read. */
  private ends = new Uint32Array(1024);

  /**
   * The whole lines of `buf` (shared memory) to every worker, with each line's
   * worker found here by a key scan on the bytes (no decoding). Each worker decodes and
   * parses only its own lines. Copying each worker's lines out here instead cost the main
   * thread ~1 s per million lines; scanning in every worker doubles the scan (~0.45 s a
   * million lines each); see bench/RESULTS.md, op reduce.
   */
  private async share(buf: Buffer, room: Room): Promise<void> {
    const end = buf.length;
    let count = 0;
    for (let start = 0; start < end; count++) {
      let nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= end) nl = end;
      if (count === this.owner.length) {
        this.owner = grow(this.owner);
        this.ends = grow(this.ends);
      }
      this.ends[count] = nl;
      let s = start;
      // A byte-order mark belongs to the file, not to the first record.
      if (this.atFirstLine && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
      this.atFirstLine = false;
      this.owner[count] = isBlankBytes(buf, s, nl) ? BLANK : this.router.workerOf(buf, s, nl);
      start = nl + 1;
    }
    const bytes = room.bytes;
    const owners = new Uint16Array(new SharedArrayBuffer(count * 2));
    owners.set(this.owner.subarray(0, count));
    const ends = new Uint32Array(new SharedArrayBuffer(count * 4));
    ends.set(this.ends.subarray(0, count));
    // Once here rather than in every worker: each checks only the lines these touch.
    const suspects = findSuspects(buf);
    // Held for every worker before the first gets it: one that acks while a later one is
    // still waited for must not hand the room back to the pool.
    room.holders += this.lanes.length;
    for (const lane of this.lanes) {
      while (lane.sent.length >= IN_FLIGHT && this.failure === undefined) await this.sleep(lane);
      this.check();
      lane.sent.push(room);
      this.post(lane, { type: 'lines', bytes, length: end, owners, ends, suspects });
    }
  }

  /** Waits for every read to be reduced, then writes each worker's groups in turn. */
  async finish(sink: Sink): Promise<ReduceStats> {
    const total: ReduceStats = { in: 0, out: 0, dropped: 0, late: 0, errors: 0, retries: 0, spills: 0 };
    for (const lane of this.lanes) {
      while (lane.sent.length > 0 && this.failure === undefined) await this.sleep(lane);
    }
    this.check();
    for (const lane of this.lanes) {
      this.post(lane, { type: 'end' });
      for (;;) {
        while (lane.pieces.length === 0 && lane.stats === undefined && this.failure === undefined) await this.sleep(lane);
        this.check();
        const piece = lane.pieces.shift();
        if (piece === undefined) break;
        this.post(lane, { type: 'next' });
        await sink.write(piece);
      }
      const stats = lane.stats!;
      for (const name of Object.keys(total) as Array<keyof ReduceStats>) total[name] += stats[name];
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
  }

  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private receive(lane: Lane, message: FromWorker): void {
    switch (message.type) {
      case 'ack': {
        const room = lane.sent.shift()!;
        if (--room.holders === 0) this.release(room);
        lane.records = message.records;
        for (const entry of message.dead) {
          this.errors++;
          this.deadLetter?.(entry);
          if (this.maxErrors !== undefined && this.errors >= this.maxErrors) {
            this.failure ??= new OpError(`stopped after ${this.errors} failed records (--max-errors ${this.maxErrors})`, { place: { source: entry.source, line: entry.line } });
          }
        }
        break;
      }
      case 'out':
        lane.pieces.push(message.text);
        break;
      case 'done':
        lane.stats = message.stats;
        break;
      case 'error': {
        const { record, place, excerpt, message: text, exitCode } = message.error;
        if (record && place) {
          const cause = Object.assign(new Error(record.cause.message), { name: record.cause.name });
          this.failure ??= new RecordError(cause, { place, stage: record.stage, attempts: record.attempts, excerpt });
        } else this.failure ??= new OpError(text, { exitCode, place, excerpt });
        break;
      }
    }
    this.wake(lane);
  }

  private fail(error: Error): void {
    this.failure ??= new OpError(`reduce worker failed: ${error.message}`, { cause: error });
    for (const lane of this.lanes) this.wake(lane);
  }

  private wake(lane: Lane): void {
    // A failure anywhere wakes a main thread waiting on any worker.
    for (const each of this.failure === undefined ? [lane] : this.lanes) {
      const wake = each.wake;
      each.wake = undefined;
      wake?.();
    }
  }

  private sleep(lane: Lane): Promise<void> {
    return new Promise((resolve) => (lane.wake = resolve));
  }

  private post(lane: Lane, message: ToWorker): void {
    lane.worker.postMessage(message);
  }
}

function grow<T extends Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(array: T): T {
  const more = new (array.constructor as new (length: number) => T)(array.length * 2);
  more.set(array);
  return more;
}

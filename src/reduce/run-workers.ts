import { Worker } from 'node:worker_threads';
import { OpError, RecordError } from '../core/errors.js';
import type { DeadLetter } from '../records/record-runner.js';
import type { Sink } from '../io/open-sink.js';
import { isBlankBytes } from '../io/is-blank-line.js';
import type { ReduceStats } from './reduce-step.js';
import { ByteKeyRouter } from './route-bytes.js';
import type { FromWorker, ReduceWorkerData, ToWorker } from './reduce-worker.js';

/** Reads in flight per worker: with 2, workers and reader sat idle ~40% of the time waiting on each other. */
const IN_FLIGHT = 4;
/** 1 MiB reads: one message per worker per read. */
export const WORKER_READ_BYTES = 1 << 20;

interface Lane {
  worker: Worker;
  inFlight: number;
  records: number;
  /** Resolved when an ack frees a slot, a piece of output arrives, or something fails. */
  wake: (() => void) | undefined;
  pieces: string[];
  stats: ReduceStats | undefined;
}

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
  private readonly router: ByteKeyRouter;
  private failure: unknown;
  private source = '';
  private rest: Buffer | undefined;
  private lineNo = 0;
  private nextIndex = 0;

  constructor(
    count: number,
    data: ReduceWorkerData,
    private readonly deadLetter: ((entry: DeadLetter) => void) | undefined,
    private readonly maxErrors: number | undefined,
  ) {
    this.router = new ByteKeyRouter(data.step.key, count);
    const url = new URL('./reduce-worker.js', import.meta.url);
    this.lanes = Array.from({ length: count }, () => {
      const lane: Lane = {
        worker: new Worker(url, { workerData: data }),
        inFlight: 0,
        records: 0,
        wake: undefined,
        pieces: [],
        stats: undefined,
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
    this.source = name;
    this.rest = undefined;
    this.lineNo = 0;
  }

  /** Cuts one read at its last newline and hands each worker its lines; resolves once each has room for more. */
  async push(bytes: Buffer): Promise<void> {
    const buf = this.rest ? Buffer.concat([this.rest, bytes]) : bytes;
    const last = buf.lastIndexOf(10);
    // The unfinished last line is copied, so it does not pin the whole read in memory.
    this.rest = last + 1 < buf.length ? Buffer.from(buf.subarray(last + 1)) : undefined;
    if (last >= 0) await this.route(buf, last + 1);
  }

  /** The last line, when the input does not end in a newline. */
  async endSource(): Promise<void> {
    const rest = this.rest;
    this.rest = undefined;
    if (rest) await this.route(rest, rest.length);
  }

  /** Per line of one read: its worker, start and end; reused from read to read (numbers in arrays cost ~0.3 s of GC per million lines). */
  private owner = new Uint16Array(0);
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);

  /** Routes the lines of `buf[0, end)`: one message per worker, its lines' bytes moved, not copied. */
  private async route(buf: Buffer, end: number): Promise<void> {
    const n = this.lanes.length;
    const counts = new Int32Array(n);
    const bytes = new Int32Array(n);
    const firstLine = this.lineNo + 1;
    const firstIndex = this.nextIndex;
    let count = 0;
    for (let start = 0; start < end; ) {
      let nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= end) nl = end;
      if (count === this.owner.length) this.grow();
      let s = start;
      // A byte-order mark belongs to the file, not to the first record.
      if (++this.lineNo === 1 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
      // Blank lines keep their place (for line numbers) but go to no worker.
      const w = isBlankBytes(buf, s, nl) ? n : this.router.workerOf(buf, s, nl);
      this.owner[count] = w;
      this.starts[count] = s;
      this.ends[count] = nl;
      count++;
      if (w < n) {
        counts[w]!++;
        bytes[w]! += nl - s + 1;
      }
      start = nl + 1;
    }
    for (let w = 0; w < n; w++) {
      if (counts[w] === 0) continue;
      const out = Buffer.allocUnsafeSlow(bytes[w]!);
      const lines = new Float64Array(counts[w]!);
      const indices = new Float64Array(counts[w]!);
      let at = 0;
      let r = 0;
      let index = firstIndex;
      for (let k = 0; k < count; k++) {
        const owner = this.owner[k]!;
        if (owner === w) {
          at += buf.copy(out, at, this.starts[k]!, this.ends[k]!);
          out[at++] = 10;
          lines[r] = firstLine + k;
          indices[r++] = index;
        }
        if (owner < n) index++;
      }
      const lane = this.lanes[w]!;
      while (lane.inFlight >= IN_FLIGHT && this.failure === undefined) await this.sleep(lane);
      this.check();
      lane.inFlight++;
      lane.worker.postMessage({ type: 'lines', source: this.source, bytes: out, lines, indices } satisfies ToWorker, [out.buffer, lines.buffer, indices.buffer]);
    }
    for (let w = 0; w < n; w++) this.nextIndex += counts[w]!;
  }

  private grow(): void {
    const size = Math.max(1024, this.owner.length * 2);
    const owner = new Uint16Array(size);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    owner.set(this.owner);
    starts.set(this.starts);
    ends.set(this.ends);
    this.owner = owner;
    this.starts = starts;
    this.ends = ends;
  }

  /** Waits for every read to be reduced, then writes each worker's groups in turn. */
  async finish(sink: Sink): Promise<ReduceStats> {
    const total: ReduceStats = { in: 0, out: 0, dropped: 0, late: 0, errors: 0, retries: 0, spills: 0 };
    for (const lane of this.lanes) {
      while (lane.inFlight > 0 && this.failure === undefined) await this.sleep(lane);
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
      case 'ack':
        lane.inFlight--;
        lane.records = message.records;
        for (const entry of message.dead) {
          this.errors++;
          this.deadLetter?.(entry);
          if (this.maxErrors !== undefined && this.errors >= this.maxErrors) {
            this.failure ??= new OpError(`stopped after ${this.errors} failed records (--max-errors ${this.maxErrors})`, { place: { source: entry.source, line: entry.line } });
          }
        }
        break;
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

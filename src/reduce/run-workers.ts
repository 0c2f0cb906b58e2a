import { Worker } from 'node:worker_threads';
import { OpError, RecordError } from '../core/errors.js';
import type { DeadLetter } from '../engine/record-runner.js';
import type { Sink } from '../io/open-sink.js';
import type { ReduceStats } from './reduce-step.js';
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
 * `op shard --by key`). The main thread only reads: every worker gets every read's bytes
 * (a copy of 1 MiB is cheaper than cutting, scanning and regrouping lines here), cuts its
 * own lines, scans each line's key and parses only the records that hash to it. At end of
 * input, worker 0's groups are written first, then worker 1's, and so on, each worker's in
 * the order its keys first appeared.
 */
export class ReduceWorkers {
  errors = 0;
  private readonly lanes: Lane[];
  private failure: unknown;

  constructor(
    count: number,
    data: Omit<ReduceWorkerData, 'worker' | 'workers'>,
    private readonly deadLetter: ((entry: DeadLetter) => void) | undefined,
    private readonly maxErrors: number | undefined,
  ) {
    const url = new URL('./reduce-worker.js', import.meta.url);
    this.lanes = Array.from({ length: count }, (_, worker) => {
      const lane: Lane = {
        worker: new Worker(url, { workerData: { ...data, worker, workers: count } satisfies ReduceWorkerData }),
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
    for (const lane of this.lanes) this.post(lane, { type: 'source', name });
  }

  /** Hands one read to every worker; resolves once each has room for more. */
  async push(bytes: Buffer): Promise<void> {
    for (const lane of this.lanes) {
      while (lane.inFlight >= IN_FLIGHT && this.failure === undefined) await this.sleep(lane);
      this.check();
      lane.inFlight++;
      this.post(lane, { type: 'bytes', bytes });
    }
  }

  endSource(): void {
    for (const lane of this.lanes) {
      lane.inFlight++;
      this.post(lane, { type: 'source-end' });
    }
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

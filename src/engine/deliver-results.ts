import { fromErrorData } from '../core/errors.js';
import type { Sink } from '../io/open-sink.js';
import type { ChunkResult } from '../records/chunk.js';
import type { DeadLetter } from '../records/record-runner.js';
import { maxErrorsReached } from '../records/record-runner.js';
import type { StepStats } from '../records/run-steps.js';
import { addStats, addStepStats, newStats, type Stats } from '../records/stats.js';

export interface DeliveryOptions {
  sink: Sink;
  errorSink: Sink | undefined;
  maxErrors: number | undefined;
  /** False: results are written as they complete (--unordered). */
  ordered: boolean;
  /** --journal: resolves once a result may be written (its records' entries are durable); `more`: results wait behind it. */
  beforeWrite?: ((result: ChunkResult, more: boolean) => Promise<void> | undefined) | undefined;
}

/** What a delivered chunk stood for in the input. */
export interface Delivered {
  /** Bytes of the source (reader's SourceChunk.inputBytes). */
  bytes: number;
  /** Its records, so the progress line can count a chunk's finished records before it is delivered. */
  records?: number | undefined;
  /** Runs once the chunk's output was written and flushed, before the next chunk is written (a queue acks here). */
  written?: (() => Promise<void>) | undefined;
}

/**
 * The one delivery step: chunk results are written in input order (or completion order),
 * output first, then dead letters; stats are summed; the first failure (a record's
 * without --errors, setup's, --max-errors) stops the run, after everything before it.
 */
export class Delivery {
  readonly stats: Stats = newStats();
  /** A chain's counters per step. */
  readonly steps: StepStats[] = [];
  /** Input bytes whose results are written: what progress is measured by. */
  bytesDone = 0;
  failure: unknown = undefined;
  /** Streams of chunks not yet delivered, whose finished records the progress line counts. */
  private readonly running = new Set<ChunkStream>();
  private writing: Promise<void> = Promise.resolve();
  private pending = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly options: DeliveryOptions) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Failures counted so far: the --max-errors budget of the next chunk. */
  get errors(): number {
    return this.stats.errors;
  }

  /**
   * A stream for a chunk's output as it is produced (records/run-chunk.ts): written at once
   * while its chunk is the next to deliver, held until then otherwise. So a slow record
   * holds back only the records after it, never those before it in its own chunk. Give it
   * to `add` with that chunk's result. Only in input order, and not with `beforeWrite`.
   */
  stream(): ChunkStream {
    return new ChunkStream(this.options.sink, this.options.errorSink);
  }

  /**
   * Records finished and the input bytes they stand for: those delivered, and those of
   * chunks still running on this thread (a chunk's bytes shared out over its records), so
   * that a chunk of slow records shows its progress before the whole chunk is done.
   * Chunks run elsewhere (worker threads) count when they are delivered.
   */
  progress(): { records: number; bytes: number } {
    let records = this.stats.in;
    let bytes = this.bytesDone;
    for (const stream of this.running) {
      const part = stream.progress();
      records += part.records;
      bytes += part.bytes;
    }
    return { records, bytes };
  }

  /** Queues `result` for delivery; `done` runs after it was written (or skipped after a failure). */
  add(result: Promise<ChunkResult>, chunk: Delivered, done: () => void, stream?: ChunkStream): void {
    this.pending++;
    if (stream) {
      stream.size = chunk;
      this.running.add(stream);
    }
    const deliver = async (): Promise<void> => {
      if (stream && this.failure === undefined) await stream.goLive();
      return result
        .then((value) => this.write(value, chunk, stream))
        // The chain must never reject, or every later chunk would go undelivered.
        .catch((error: unknown) => {
          this.failure ??= error;
        })
        .finally(() => {
          if (stream) this.running.delete(stream);
          done();
          if (--this.pending === 0) this.idle?.();
        });
    };
    if (this.options.ordered) this.writing = this.writing.then(deliver);
    else void result.then(noop, noop).then(() => (this.writing = this.writing.then(deliver)));
  }

  /** Resolves once every queued result has been delivered. */
  settle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private async write(result: ChunkResult, chunk: Delivered, stream: ChunkStream | undefined): Promise<void> {
    if (this.failure !== undefined) return;
    if (result.setupFailure) {
      this.failure = fromErrorData(result.setupFailure);
      return;
    }
    const { sink, errorSink, beforeWrite } = this.options;
    const durable = beforeWrite?.(result, this.pending > 1);
    if (durable) await durable;
    const { out, deadLetters, deadLetterAt } = result;
    let next = 0;
    for (let k = 0; k <= out.length; k++) {
      // The dead letters that happened before piece k, in one write.
      let letters = '';
      while (next < deadLetters.length && deadLetterAt[next]! <= k) letters += JSON.stringify(deadLetters[next++]) + '\n';
      if (letters && errorSink) await errorSink.write(letters);
      const piece = out[k];
      if (piece !== undefined) await sink.write(typeof piece === 'string' || piece instanceof Uint8Array ? piece : new Uint8Array(piece));
    }
    // A slow --errors file holds the run back too.
    await errorSink?.drain();
    // Output that never reached the reader (a closed pipe) is not acknowledged.
    if (chunk.written && !sink.closed) {
      await sink.flush();
      if (!sink.closed) await chunk.written();
    }
    // Counted once: from here on as delivered, no longer as running.
    if (stream) this.running.delete(stream);
    addStats(this.stats, result.stats);
    addStepStats(this.steps, result.steps);
    this.bytesDone += chunk.bytes;
    if (result.failure) this.failure = fromErrorData(result.failure);
    const max = this.options.maxErrors;
    if (max !== undefined && this.stats.errors >= max && this.failure === undefined) this.failure = maxErrorsReached(this.stats.errors, max);
  }
}

function noop(): void {}

/** A chunk's output and dead letters, in the order they happened; see Delivery.stream(). */
export class ChunkStream {
  /** The chunk's size in the input, set when its result is queued. */
  size: Delivered | undefined;
  private held: Array<{ text: string; dead: boolean }> = [];
  private live = false;
  private done: (() => number) | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly errorSink: Sink | undefined,
  ) {}

  write(text: string): Promise<void> | undefined {
    if (this.live) return this.sink.write(text);
    this.held.push({ text, dead: false });
    return undefined;
  }

  deadLetter(entry: DeadLetter): void {
    const text = JSON.stringify(entry) + '\n';
    if (this.live) void this.errorSink?.write(text);
    else this.held.push({ text, dead: true });
  }

  track(done: () => number): void {
    this.done = done;
  }

  /** The chunk's records finished so far, and their share of its input bytes. */
  progress(): { records: number; bytes: number } {
    const records = this.done?.() ?? 0;
    const size = this.size;
    if (!size?.records || records === 0) return { records, bytes: 0 };
    return { records, bytes: Math.floor((size.bytes * Math.min(records, size.records)) / size.records) };
  }

  /** Writes what was held, then lets writes through as they come. */
  async goLive(): Promise<void> {
    while (this.held.length > 0) {
      const held = this.held;
      this.held = [];
      for (const { text, dead } of held) await (dead ? this.errorSink?.write(text) : this.sink.write(text));
    }
    this.live = true;
  }
}

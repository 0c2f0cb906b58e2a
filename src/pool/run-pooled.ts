import { existsSync } from 'node:fs';
import Tinypool from 'tinypool';
import { OpError, RecordError, TimeoutError, InputError, causeParts, describeCause } from '../core/errors.js';
import type { DeadLetter } from '../engine/record-runner.js';
import { addStats, newStats, type Stats } from '../engine/stats.js';
import type { Sink } from '../io/open-sink.js';
import { MAX_LINE_BYTES } from '../io/split-lines.js';
import { isBlankBytes } from '../io/is-blank-line.js';
import { ChunkRing } from './chunk-ring.js';
import type { ChunkResult, ChunkTask, FailureData, WorkerSetup } from './chunk-task.js';
import type { PoolSource } from '../io/open-source.js';
import { readSharedChunks, type Numbering, type SharedChunk } from './read-shared-chunks.js';

/**
 * 1 MiB tasks, which each worker runs in 112 KiB pieces (cut-pieces.ts). Over 1,000,000
 * records with -w 2: 1.90-2.00 s at 896 KiB and 1.90 s at 1 MiB against 2.10-2.41 s for
 * 112 KiB tasks, alternating with raw-map at 2.90-3.10 s; fewer tasks mean fewer messages
 * and fewer of tinypool's per-task memory probes. OP_CHUNK_BYTES overrides it, for the
 * benchmarks and tests.
 */
export const CHUNK_BYTES = Number(process.env.OP_CHUNK_BYTES) || 1024 * 1024;
/**
 * The worker entry, next to this module; from the CLI bundle (dist/op.mjs) it is the
 * compiled module under dist/src/pool.
 */
const WORKER_FILE = [new URL('./pool-worker.js', import.meta.url), new URL('./src/pool/pool-worker.js', import.meta.url)].find((url) => existsSync(url))?.href;
/** Slots per worker: one being processed, one waiting, so a worker never idles on the main thread. */
const SLOTS_PER_WORKER = 2;
/** How long teardown may take before the pool is abandoned (the process exit ends the threads). */
const DESTROY_TIMEOUT_MS = 10_000;

export interface PooledRun {
  setup: WorkerSetup;
  workers: number;
  maxErrors: number | undefined;
  sink: Sink;
  errorSink: Sink | undefined;
  stats: Stats;
  halted: () => boolean;
  /** Input bytes handed to the workers, for the progress line. */
  onChunk: (bytes: number) => void;
}

/**
 * The worker-thread path: the main thread reads chunks into shared memory, numbers their
 * lines, and writes results back in input order; workers decode, parse, run the handler
 * and serialise. A worker that dies takes no record with it: its chunk is rerun one record
 * per task, so only the record that kills a worker again is dead-lettered.
 */
export class PooledPump {
  private readonly pool: Tinypool;
  private readonly ring: ChunkRing;
  private readonly numbering: Numbering = { line: 1, index: 0 };
  private writing: Promise<void> = Promise.resolve();
  private undelivered = 0;
  private allDelivered: (() => void) | undefined;
  private failure: unknown = undefined;
  private readonly beats = new Set<Float64Array>();
  private readonly timedOut = new WeakSet<Float64Array>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly run: PooledRun) {
    this.pool = new Tinypool({
      filename: WORKER_FILE,
      minThreads: run.workers,
      maxThreads: run.workers,
      idleTimeout: 2 ** 31 - 1,
      teardown: 'teardown',
      workerData: run.setup,
      // 16 MB young generation per worker, measured over 1,000,000 records with -w 2: GC time
      // per worker 170 ms at 8 MB, 92 ms at 16, 75 ms uncapped; peak RSS 216, 211 and 246 MB.
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
    });
    // A worker that dies between tasks has no task to fail; the pool replaces it.
    this.pool.on('error', () => {});
    this.ring = new ChunkRing(run.workers * SLOTS_PER_WORKER + 1, CHUNK_BYTES);
    const timeout = run.setup.timeout;
    if (timeout !== undefined) {
      this.watchdog = setInterval(() => this.checkBeats(timeout), Math.max(5, Math.min(250, timeout / 4)));
      this.watchdog.unref();
    }
  }

  get halted(): boolean {
    return this.run.halted() || this.failure !== undefined;
  }

  async read(source: PoolSource): Promise<void> {
    for await (const chunk of readSharedChunks(source, this.ring, this.numbering, () => this.halted, this.run.setup.batch)) {
      this.run.onChunk(chunk.bytes);
      this.undelivered++;
      const outcome = this.runChunk(chunk, source.name);
      const deliver = (): Promise<void> =>
        outcome
          .then((result) => this.deliver(result, chunk))
          // The chain must never reject, or every later chunk would go undelivered.
          .catch((error: unknown) => {
            this.failure ??= error;
          })
          .finally(() => this.delivered());
      if (this.run.setup.unordered) void outcome.then(() => (this.writing = this.writing.then(deliver)));
      else this.writing = this.writing.then(deliver);
    }
  }

  /** Waits for every chunk, shuts the workers down (running teardown), and throws what stopped the run. */
  async finish(): Promise<void> {
    await this.settle();
    clearInterval(this.watchdog);
    let teardownFailure: unknown;
    // Taken first: destroy() forgets its threads at once, before their teardown has run.
    const threads = this.pool.threads;
    const destroyed = this.pool.destroy().then(
      () => true,
      (error: unknown) => {
        teardownFailure = error;
        return true;
      },
    );
    const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), DESTROY_TIMEOUT_MS).unref());
    // A teardown that never returns must not hold the run (nor keep the process alive).
    if (!(await Promise.race([destroyed, timer]))) {
      teardownFailure ??= new Error(`did not finish within ${DESTROY_TIMEOUT_MS / 1000} s`);
      await Promise.all(threads.map((thread) => thread.terminate()));
    }
    if (this.failure !== undefined) throw this.failure;
    if (teardownFailure !== undefined) throw new OpError(`teardown failed: ${describeCause(teardownFailure)}`, { cause: teardownFailure });
  }

  /** Resolves once every dispatched chunk has been delivered. */
  private settle(): Promise<void> {
    if (this.undelivered === 0) return Promise.resolve();
    return new Promise((resolve) => (this.allDelivered = resolve));
  }

  private delivered(): void {
    if (--this.undelivered === 0) this.allDelivered?.();
  }

  private async deliver(result: ChunkResult, chunk: SharedChunk): Promise<void> {
    if (chunk.slot) this.ring.release(chunk.slot);
    if (this.failure !== undefined) return;
    if (result.setupFailure) {
      this.failure = fromFailure(result.setupFailure);
      return;
    }
    for (const piece of result.out) await this.run.sink.write(new Uint8Array(piece));
    if (result.deadLetters.length > 0 && this.run.errorSink) {
      await this.run.errorSink.write(result.deadLetters.map((entry) => JSON.stringify(entry) + '\n').join(''));
    }
    addStats(this.run.stats, result.stats);
    if (result.failure) this.failure = fromFailure(result.failure);
    const max = this.run.maxErrors;
    if (max !== undefined && this.run.stats.errors >= max && this.failure === undefined) {
      this.failure = new OpError(`stopped after ${this.run.stats.errors} failed records (--max-errors ${max})`);
    }
  }

  private async runChunk(chunk: SharedChunk, source: string): Promise<ChunkResult> {
    if (!chunk.slot) return this.badRecords([{ line: chunk.firstLine, text: '' }], source, new InputError(`line longer than ${MAX_LINE_BYTES} bytes`));
    const task = { sab: chunk.slot.sab, start: 0, end: chunk.bytes, firstLine: chunk.firstLine, firstIndex: chunk.firstIndex, source, batches: chunk.batches };
    try {
      return await this.runTask(task);
    } catch {
      return this.isolate(chunk, source);
    }
  }

  /**
   * Reruns a chunk whose worker died, one unit per task (a record, or for op batch a
   * batch), so only a unit that kills a worker again fails: each of its records is
   * dead-lettered with the crash.
   */
  private async isolate(chunk: SharedChunk, source: string): Promise<ChunkResult> {
    const merged = emptyResult();
    for (const unit of splitUnits(chunk)) {
      if (merged.failure) break;
      const task = { sab: chunk.slot!.sab, start: unit.start, end: unit.end, firstLine: unit.firstLine, firstIndex: unit.firstIndex, source, batches: chunk.batches && [unit.records.length] };
      let result: ChunkResult;
      try {
        result = await this.runTask(task);
      } catch (crash) {
        result = this.badRecords(unit.records, source, crash, this.run.setup.kind, 1);
      }
      if (result.setupFailure) return result;
      merged.out.push(...result.out);
      addStats(merged.stats, result.stats);
      merged.deadLetters.push(...result.deadLetters);
      merged.failure = result.failure;
    }
    return merged;
  }

  private async runTask(fields: Omit<ChunkTask, 'beat'>): Promise<ChunkResult> {
    if (this.run.setup.timeout === undefined) return (await this.pool.run({ ...fields, beat: undefined })) as ChunkResult;
    const beat = new SharedArrayBuffer(16);
    const view = new Float64Array(beat);
    this.beats.add(view);
    try {
      return (await this.pool.run({ ...fields, beat })) as ChunkResult;
    } catch (error) {
      throw this.timedOut.has(view) ? new TimeoutError(this.run.setup.timeout) : error;
    } finally {
      this.beats.delete(view);
    }
  }

  /**
   * A record stuck without a sign of life past --timeout (a synchronous loop): fail its
   * worker through the pool's own error path, which replaces it, and terminate the thread.
   * (Aborting the task instead would make the pool run `teardown` on the stuck thread first,
   * which never happens.)
   */
  private checkBeats(timeout: number): void {
    const now = Date.now();
    for (const view of this.beats) {
      const [last = 0, threadId] = view;
      if (last === 0 || now - last <= timeout || this.timedOut.has(view)) continue;
      const thread = this.pool.threads.find((worker) => worker.threadId === threadId);
      if (!thread) continue;
      this.timedOut.add(view);
      thread.emit('error', new TimeoutError(timeout));
      void thread.terminate();
    }
  }

  /** Records failed on the main thread (over-long, or whose worker died twice): dead-lettered, or the failure that stops the run. */
  private badRecords(records: UnitRecord[], source: string, cause: unknown, stage = 'read', attempts = 0): ChunkResult {
    const result = emptyResult();
    result.stats.in = records.length;
    const first = records[0]!;
    if (!this.run.setup.deadLetters) {
      const place = { source, line: first.line };
      const error = new RecordError(cause, { place, stage, attempts, excerpt: first.text });
      result.failure = { name: error.name, message: error.message, exitCode: 1, place, excerpt: first.text };
      return result;
    }
    result.stats.errors = records.length;
    for (const { line, text } of records) {
      const entry: DeadLetter = { source, line, id: line, input: text, error: causeParts(cause), attempts, stage };
      result.deadLetters.push(entry);
    }
    return result;
  }
}

interface UnitRecord {
  line: number;
  text: string;
}

/** A record, or for op batch a whole batch, with its byte range in the chunk's slot. */
interface Unit {
  start: number;
  end: number;
  firstLine: number;
  firstIndex: number;
  records: UnitRecord[];
}

/** The chunk's units in order: one per record, or one per batch when the chunk holds batches. */
function* splitUnits(chunk: SharedChunk): Generator<Unit> {
  const buf = chunk.slot!.buf;
  const sizes = chunk.batches ? [...chunk.batches] : undefined;
  let unit: Unit | undefined;
  let index = chunk.firstIndex;
  let line = chunk.firstLine;
  for (let start = 0; start < chunk.bytes; line++) {
    let nl = buf.indexOf(10, start);
    if (nl < 0 || nl >= chunk.bytes) nl = chunk.bytes;
    const end = Math.min(nl + 1, chunk.bytes);
    if (!isBlankBytes(buf, start, nl)) {
      unit ??= { start, end, firstLine: line, firstIndex: index, records: [] };
      unit.end = end;
      unit.records.push({ line, text: buf.toString('utf8', start, buf[nl - 1] === 13 ? nl - 1 : nl) });
      index++;
      if (!sizes || unit.records.length >= (sizes[0] ?? 1)) {
        sizes?.shift();
        yield unit;
        unit = undefined;
      }
    }
    start = end;
  }
  if (unit) yield unit;
}

function emptyResult(): ChunkResult {
  return { out: [], stats: newStats(), deadLetters: [], failure: undefined, setupFailure: undefined };
}

function fromFailure(data: FailureData): OpError {
  return new OpError(data.message, { exitCode: data.exitCode, place: data.place, excerpt: data.excerpt });
}

import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import Tinypool from 'tinypool';
import { OpError, TimeoutError, describeCause } from '../core/errors.js';
import { findSuspects } from '../io/scan-numbers.js';
import { addStats, addStepStats } from '../records/stats.js';
import type { Chunk, ChunkResult, ChunkSetup } from '../records/chunk.js';
import { chunkUnits } from '../records/chunk-units.js';
import { emptyResult, failedRecords } from '../records/failed-records.js';
import { unpacked } from '../records/record-pieces.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { newFailureSlot, readFailure, writeFailure } from './failure-slot.js';
import { TaskSizer } from './task-sizer.js';
import type { ThreadTask } from './thread-task.js';

/**
 * The largest task: 1 MiB, which each worker runs in 112 KiB pieces (cut-pieces.ts). Over
 * 1,000,000 records with -w 2: 1.90-2.00 s at 896 KiB and 1.90 s at 1 MiB against
 * 2.10-2.41 s for 112 KiB tasks; fewer tasks mean fewer messages and fewer of tinypool's
 * per-task memory probes. Tasks start smaller and grow (task-sizer.ts). OP_CHUNK_BYTES
 * overrides the largest, for the benchmarks and tests.
 */
export const CHUNK_BYTES = Number(process.env.OP_CHUNK_BYTES) || 1024 * 1024;
/**
 * The worker entry, next to this module: the one-file bundle of it that the build makes
 * (scripts/bundle.mjs), else the compiled module (a build by tsc alone).
 */
const WORKER_FILE = [new URL('../executors/thread-worker.bundle.mjs', import.meta.url), new URL('../executors/thread-worker.js', import.meta.url)].find((url) => existsSync(url))?.href;
/** Tasks per worker: one being processed, one waiting, so a worker never idles on the main thread. */
const TASKS_PER_WORKER = 2;
/** How long teardown may take before the pool is abandoned (the process exit ends the threads). */
const DESTROY_TIMEOUT_MS = 10_000;
/**
 * On abort(), how long workers have to hand back what finished before their threads are
 * ended: a worker that is not stuck in a synchronous loop sees the stop within its 20 ms
 * beat and answers at once.
 */
const ABORT_GRACE_MS = 1000;

/**
 * The handler in worker threads (tinypool): each task is a range of the shared memory the
 * reader filled; results come back as transferred buffers. A worker that dies takes no
 * record with it: its chunk is rerun one unit per task, so only the record that kills a
 * worker again is dead-lettered. With --timeout a watchdog ends a thread stuck in a
 * synchronous loop.
 */
export class ThreadsExecutor implements Executor {
  readonly capacity: number;
  /**
   * One per worker. 2,000 records of 1 ms at -w 2: a worker waited up to 48 ms for a slot
   * while the other ran a longer chunk ahead of its finished ones.
   */
  readonly spareSlots: number;
  readonly slotBytes = CHUNK_BYTES;
  readonly readAhead = false;
  readonly sharedSlots = true;
  private readonly pool: Tinypool;
  private readonly sizer: TaskSizer;
  private readonly beats = new Set<Float64Array>();
  private readonly timedOut = new WeakSet<Float64Array>();
  private readonly watchdog: NodeJS.Timeout | undefined;
  /** Chunks sent and not yet back, with their task's end (settled either way). */
  private readonly inFlight = new Map<Chunk, Promise<unknown>>();
  private aborted: OpError | undefined;
  /** abort() in progress: the places it names, once the workers have answered or been ended. */
  private aborting: Promise<Array<{ source: string; line: number }>> | undefined;
  /** Places of records that workers gave up on at the stop. */
  private readonly stoppedPlaces: Array<{ source: string; line: number }> = [];
  /** Ends every task's wait once abort() ends the threads: a task on a terminated thread may never settle, and must not hold the run. */
  private readonly abortion = new AbortController();
  /** Where a worker's teardown leaves its failure (failure-slot.ts). */
  private readonly teardownFailure = newFailureSlot();
  /** Where abort() leaves the stop's cause for the workers to see. */
  private readonly stopSlot = newFailureSlot();

  constructor(
    private readonly setup: ChunkSetup,
    workers: number,
  ) {
    this.capacity = workers * TASKS_PER_WORKER;
    this.spareSlots = workers;
    // One abort listener per task in flight: capacity of them, beyond the default warning at 10.
    setMaxListeners(0, this.abortion.signal);
    this.sizer = new TaskSizer(CHUNK_BYTES, { workers });
    this.pool = new Tinypool({
      filename: WORKER_FILE,
      minThreads: workers,
      maxThreads: workers,
      // A worker holds its next task while it runs one (thread-worker.ts runs them in turn):
      // no gap between tasks waiting on the main thread. 2,000 records of 1 ms at -w 2 had
      // 1.5-6 ms between one task and the next, ~40 ms per worker over the run.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      idleTimeout: 2 ** 31 - 1,
      teardown: 'teardown',
      workerData: { ...setup, teardownFailure: this.teardownFailure, stopSlot: this.stopSlot },
      // 16 MB young generation per worker, measured over 1,000,000 records with -w 2: GC time
      // per worker 170 ms at 8 MB, 92 ms at 16, 75 ms uncapped; peak RSS 216, 211 and 246 MB.
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
    });
    // A worker that dies between tasks has no task to fail; the pool replaces it.
    this.pool.on('error', () => {});
    const timeout = setup.timeout;
    if (timeout !== undefined) {
      this.watchdog = setInterval(() => this.checkBeats(timeout), Math.max(5, Math.min(250, timeout / 4)));
      this.watchdog.unref();
    }
  }

  chunkBytes(remaining?: number): number {
    return this.sizer.next(remaining);
  }

  async run(chunk: Chunk, options: ExecuteOptions): Promise<ChunkResult> {
    const task = { sab: chunk.sab!, start: chunk.bytes.byteOffset, end: chunk.bytes.byteOffset + chunk.bytes.length, firstLine: chunk.firstLine, firstIndex: chunk.firstIndex, source: chunk.source, batches: chunk.batches, skip: chunk.skip, hashLines: chunk.hashLines, suspects: findSuspects(chunk.bytes), errorLimit: options.errorLimit };
    const pending = this.runTask(task);
    this.inFlight.set(chunk, pending.then(noop, noop));
    try {
      const result = await this.untilAborted(pending);
      if (result.stopped === 'all') return this.unfinishedResult(chunk, this.aborted!);
      if (result.stopped) this.stoppedPlaces.push(...result.stopped);
      this.sizer.record(chunk.bytes.length, result.ms);
      return result;
    } catch {
      if (this.aborted) return this.unfinishedResult(chunk, this.aborted);
      return this.isolate(chunk, options);
    } finally {
      this.inFlight.delete(chunk);
    }
  }

  /**
   * `task`, or a rejection on abort(). Not Promise.race against one promise that lives as
   * long as the run: each race leaves a reaction on it that holds that task's result (its
   * output bytes) until the run ends, which grew -w 2's peak RSS by ~110 MiB over
   * 1,000,000 records.
   */
  private untilAborted<T>(task: Promise<T>): Promise<T> {
    const signal = this.abortion.signal;
    if (signal.aborted) return Promise.reject(this.aborted);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.aborted);
      signal.addEventListener('abort', onAbort, { once: true });
      task.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The records of a chunk whose thread was ended by abort(), or that never started: each fails with the stop's cause. */
  private unfinishedResult(chunk: Chunk, cause: OpError): ChunkResult {
    const records = [...chunkUnits(chunk)].flatMap((unit) => unit.records);
    this.stoppedPlaces.push(...records.map(({ line }) => ({ source: chunk.source, line })));
    return records.length === 0 ? emptyResult() : failedRecords(records, chunk.source, cause, { stage: this.setup.kind, attempts: 1, deadLetters: this.setup.deadLetters });
  }

  /** Waits for teardown in every worker (at most DESTROY_TIMEOUT_MS), then ends the threads. */
  async close(): Promise<void> {
    clearInterval(this.watchdog);
    if (this.aborted) {
      await this.aborting;
      await Promise.all(this.pool.threads.map((thread) => thread.terminate()));
      return;
    }
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
    const failed = readFailure(this.teardownFailure);
    if (teardownFailure === undefined && failed !== undefined) throw new OpError(`teardown failed: ${failed}`, { stage: 'teardown' });
    if (teardownFailure !== undefined) throw new OpError(`teardown failed: ${describeCause(teardownFailure)}`, { cause: teardownFailure, stage: 'teardown' });
  }

  /**
   * Leaves the stop in the stop slot: each worker fails its calls in flight, starts no more
   * records, and hands back what finished. Threads that have not answered within
   * ABORT_GRACE_MS (a synchronous loop) are ended, and all of their chunk fails.
   */
  abort(cause: OpError): Promise<Array<{ source: string; line: number }>> {
    this.aborting ??= (async () => {
      this.aborted = cause;
      clearInterval(this.watchdog);
      writeFailure(this.stopSlot, cause.message);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, ABORT_GRACE_MS)));
      await Promise.race([Promise.all(this.inFlight.values()), grace]);
      clearTimeout(timer);
      this.abortion.abort();
      await Promise.all(this.pool.threads.map((thread) => thread.terminate()));
      // Each chunk's wait ends on the abortion; its records join the places a tick later.
      await new Promise((resolve) => setImmediate(resolve));
      return this.stoppedPlaces.sort((a, b) => (a.source === b.source ? a.line - b.line : 0));
    })();
    return this.aborting;
  }

  /**
   * Reruns a chunk whose worker died, one unit per task (a record, or for op batch a
   * batch), so only a unit that kills a worker again fails: each of its records is
   * dead-lettered with the crash.
   */
  private async isolate(chunk: Chunk, options: ExecuteOptions): Promise<ChunkResult> {
    const merged = emptyResult();
    for (const unit of chunkUnits(chunk)) {
      if (merged.failure) break;
      const start = chunk.bytes.byteOffset + unit.start;
      const task = { sab: chunk.sab!, start, end: start + unit.end - unit.start, firstLine: unit.firstLine, firstIndex: unit.firstIndex, source: chunk.source, batches: chunk.batches && [unit.records.length], skip: chunk.skip, hashLines: undefined, suspects: undefined, errorLimit: options.errorLimit };
      let result: ChunkResult;
      try {
        result = await this.runTask(task);
      } catch (crash) {
        result = failedRecords(unit.records, chunk.source, crash, { stage: this.setup.kind, attempts: 1, deadLetters: this.setup.deadLetters });
      }
      if (result.setupFailure) return result;
      result = unpacked(result);
      merged.deadLetterAt.push(...result.deadLetterAt.map((at) => at + merged.out.length));
      merged.out.push(...result.out);
      if (result.outLines) merged.outLines = [...(merged.outLines ?? []), ...result.outLines];
      if (result.sideAt) merged.sideAt = [...(merged.sideAt ?? []), ...result.sideAt];
      addStats(merged.stats, result.stats);
      merged.steps ??= [];
      addStepStats(merged.steps, result.steps);
      merged.deadLetters.push(...result.deadLetters);
      merged.failure = result.failure;
    }
    return merged;
  }

  private async runTask(fields: Omit<ThreadTask, 'beat'>): Promise<ChunkResult> {
    if (this.setup.timeout === undefined) return (await this.pool.run({ ...fields, beat: undefined })) as ChunkResult;
    const beat = new SharedArrayBuffer(16);
    const view = new Float64Array(beat);
    this.beats.add(view);
    try {
      return (await this.pool.run({ ...fields, beat })) as ChunkResult;
    } catch (error) {
      throw this.timedOut.has(view) ? new TimeoutError(this.setup.timeout) : error;
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
}

function noop(): void {}

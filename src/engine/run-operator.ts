import { EXIT } from '../core/exit-codes.js';
import { OpError, UsageError, describeCause } from '../core/errors.js';
import { loadHandler, type HandlerSpec, type LoadedHandler } from '../handler/load-handler.js';
import { lifecycleContext, type SharedContext } from '../handler/record-context.js';
import { checkInputs, openPoolSource, openSource } from '../io/open-source.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { LineSplitter, type LineChunk } from '../io/split-lines.js';
import { Batcher, type BatchLimits } from './batcher.js';
import type { Kind } from './kinds.js';
import { startProgress, type ProgressCounters } from './progress.js';
import { RecordRunner, type DeadLetter } from './record-runner.js';
import { ReorderWindow } from './reorder-window.js';
import { runLines, runRecords, type LineRun } from './run-lines.js';
import { newStats, type Stats } from './stats.js';
import { StopSignal } from './stop-signal.js';

export interface OperatorOptions {
  /** `op map`: names the command in messages and the progress line. */
  command: string;
  kind: Kind;
  handler: HandlerSpec;
  inputs: string[];
  output: string | undefined;
  inputFormat: 'ndjson' | 'json';
  concurrency: number;
  unordered: boolean;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  errors: string | undefined;
  maxErrors: number | undefined;
  idField: string | undefined;
  config: unknown;
  workdir: string | undefined;
  keepWorkdirs: boolean;
  stats: boolean;
  progress: boolean;
  rank: number;
  world: number;
  /** Worker threads; 0 runs the handler on the main thread. */
  workers: number;
  /** `op batch`: how records are grouped before the handler sees them. */
  batch?: BatchLimits | undefined;
  /** When aborted, no more records start; records in flight finish (op each --halt). */
  halt?: AbortSignal | undefined;
  /** The dead letters' "stage" for a handler failure (default: the kind). */
  stage?: string | undefined;
}

/** Results held behind a slow record, per unit of concurrency (and never fewer than 1,024). */
const WINDOW_PER_SLOT = 16;

/** What both paths (inline and worker threads) run with. */
interface RunParts {
  options: OperatorOptions;
  handler: LoadedHandler;
  sink: Sink;
  errorSink: Sink | undefined;
  stop: StopSignal;
  counters: ProgressCounters;
}

/**
 * Runs one operator over its inputs: read chunks, cut lines, run records, write results in
 * order. Resolves to the exit status; throws the failure that stopped the run, after
 * everything before it has been written.
 */
export async function runOperator(options: OperatorOptions): Promise<number> {
  checkInputs(options.inputs);
  if (options.workers > 0 && options.inputFormat === 'json') throw new UsageError('--input-format json is parsed on the main thread; it does not combine with --workers');
  // Loaded here even with workers, so a module that does not load is a usage error before any input is read.
  const handler = await loadHandler(options.handler);
  const sink = openSink(options.output, () => stop.stop('closed-output'));
  const errorSink = options.errors === undefined ? undefined : openSink(options.errors);
  const stop = new StopSignal();
  options.halt?.addEventListener('abort', () => stop.stop('halt'), { once: true });
  const started = performance.now();
  const counters: ProgressCounters = { records: () => 0, bytes: 0, totalBytes: 0 };
  const endProgress = options.progress ? startProgress(options.command, counters) : undefined;
  const parts: RunParts = { options, handler, sink, errorSink, stop, counters };
  const { stats, failure: runFailure } = await (options.workers > 0 ? runWithWorkers(parts) : runInline(parts));
  let failure = runFailure;
  endProgress?.();
  stop.dispose();
  failure ??= await endOutputs(sink, errorSink);
  if (options.stats) {
    const ms = Math.round(performance.now() - started);
    process.stderr.write(JSON.stringify({ ...stats, ms }) + '\n');
  }
  if (stop.exitCode !== undefined) return stop.exitCode;
  if (failure !== undefined) throw failure;
  return stats.errors > 0 ? EXIT.deadLettered : EXIT.ok;
}

/** The handler on the main thread: setup, every record, teardown. */
async function runInline({ options, handler, sink, errorSink, stop, counters }: RunParts): Promise<{ stats: Stats; failure: unknown }> {
  const shared: SharedContext = {
    command: options.command,
    rank: options.rank,
    world: options.world,
    workerId: 0,
    config: options.config,
    signal: stop.handlers.signal,
    workdir: options.workdir === undefined ? undefined : { root: options.workdir, keep: options.keepWorkdirs },
    log: (line) => process.stderr.write(line + '\n'),
  };
  const deadLetter = errorSink && ((entry: DeadLetter) => void errorSink.write(JSON.stringify(entry) + '\n'));
  const runner = new RecordRunner({ ...options, handler: handler.fn, wantsContext: handler.wantsContext, shared, deadLetter });
  const window = new ReorderWindow(options.concurrency, Math.max(1024, options.concurrency * WINDOW_PER_SLOT), !options.unordered);
  const batcher = options.batch && new Batcher(runner, options.batch, options.handler.type !== 'builtin');
  const pump = new Pump(runner, window, sink, errorSink, stop, counters, batcher);
  counters.records = () => runner.stats.in;
  let failure: unknown;
  try {
    if (handler.setup) await callLifecycle('setup', () => handler.setup?.(lifecycleContext(shared)));
    for (const spec of options.inputs) {
      if (pump.halted) break;
      await (options.inputFormat === 'json' ? pump.readValues(spec) : pump.readLines(spec));
    }
    await pump.finish();
  } catch (error) {
    failure = error;
  }
  if (handler.teardown) {
    try {
      await callLifecycle('teardown', () => handler.teardown?.(lifecycleContext(shared)));
    } catch (error) {
      failure ??= error;
    }
  }
  return { stats: runner.stats, failure };
}

/** The handler in worker threads (its setup and teardown run once per worker). */
async function runWithWorkers({ options, sink, errorSink, stop, counters }: RunParts): Promise<{ stats: Stats; failure: unknown }> {
  const { PooledPump } = await import('../pool/run-pooled.js');
  const stats = newStats();
  counters.records = () => stats.in;
  const pump = new PooledPump({
    setup: {
      command: options.command,
      kind: options.kind,
      handler: options.handler,
      concurrency: options.concurrency,
      unordered: options.unordered,
      retries: options.retries,
      retryDelay: options.retryDelay,
      timeout: options.timeout,
      deadLetters: errorSink !== undefined,
      idField: options.idField,
      config: options.config,
      workdir: options.workdir === undefined ? undefined : { root: options.workdir, keep: options.keepWorkdirs },
      rank: options.rank,
      world: options.world,
      batch: options.batch,
    },
    workers: options.workers,
    maxErrors: options.maxErrors,
    sink,
    errorSink,
    stats,
    halted: () => stop.stopped,
    onChunk: (bytes) => (counters.bytes += bytes),
  });
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      if (pump.halted) break;
      const source = openPoolSource(spec);
      counters.totalBytes = source.size === undefined || counters.totalBytes === undefined ? undefined : counters.totalBytes + source.size;
      const release = stop.onStop(() => source.stream?.destroy());
      try {
        await pump.read(source);
      } catch (error) {
        if (!stop.stopped) throw new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
      } finally {
        release();
        source.close();
      }
    }
  } catch (error) {
    failure = error;
  }
  try {
    await pump.finish();
  } catch (error) {
    failure ??= error;
  }
  return { stats, failure };
}

async function callLifecycle(name: string, call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    throw new OpError(`${name} failed: ${describeCause(error)}`, { cause: error });
  }
}

/** The read → run → write loop, shared by NDJSON lines and parsed JSON values. */
class Pump {
  /** One record loop for the whole run: the record index runs on across chunks and sources. */
  private readonly run: LineRun;

  constructor(
    private readonly runner: RecordRunner,
    private readonly window: ReorderWindow,
    private readonly sink: Sink,
    private readonly errorSink: Sink | undefined,
    private readonly stop: StopSignal,
    private readonly counters: ProgressCounters,
    private readonly batcher: Batcher | undefined,
  ) {
    this.run = { runner, window, source: '', nextIndex: 0, write: (out) => this.write(out), halted: () => this.halted };
  }

  /** No more input is to be taken: stopped, or a record failed. */
  get halted(): boolean {
    return this.stop.stopped || this.window.failed;
  }

  async readLines(spec: string): Promise<void> {
    const source = openSource(spec);
    this.addSize(source.size);
    const release = this.stop.onStop(() => source.stream.destroy());
    const splitter = new LineSplitter();
    const reads = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.nextRead(reads);
        if (next.done) break;
        this.counters.bytes += next.value.length;
        const chunk = splitter.push(next.value);
        if (chunk) await this.runLines(chunk, source.name);
        if (this.halted) break;
      }
      const tail = this.halted ? undefined : splitter.end();
      if (tail) await this.runLines(tail, source.name);
    } catch (error) {
      if (!this.stop.stopped) throw new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
    } finally {
      release();
      await reads.return?.();
    }
  }

  /**
   * The next read; with `op batch --wait`, a batch whose time is up is flushed while the
   * read is still pending, so a slow or live input keeps flowing.
   */
  private async nextRead(reads: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    const next = reads.next();
    for (;;) {
      const deadline = this.batcher?.deadline;
      if (deadline === undefined) return next;
      let timer: NodeJS.Timeout | undefined;
      const due = new Promise<'due'>((resolve) => (timer = setTimeout(() => resolve('due'), Math.max(0, deadline - performance.now()))));
      const first = await Promise.race([next, due]);
      clearTimeout(timer);
      if (first !== 'due') return first;
      await this.flushBatch();
    }
  }

  private flushBatch(): Promise<void> {
    return runRecords(this.run, 1, () => this.batcher?.flush());
  }

  async readValues(spec: string): Promise<void> {
    const source = openSource(spec);
    this.addSize(source.size);
    const release = this.stop.onStop(() => source.stream.destroy());
    const { readJsonValues } = await import('../io/read-json-values.js');
    let ordinal = 0;
    try {
      for await (const values of readJsonValues(source.stream)) {
        await this.runValues(values, source.name, ordinal + 1);
        ordinal += values.length;
        if (this.halted) break;
      }
    } catch (error) {
      if (this.halted) return;
      throw new OpError(`invalid JSON after value ${ordinal}: ${describeCause(error)}`, { place: { source: source.name, line: ordinal + 1 }, cause: error });
    } finally {
      release();
    }
  }

  /** Flushes the last batch, waits for records in flight, writes what they produced, and surfaces the failure if any. */
  async finish(): Promise<void> {
    if (this.batcher && !this.halted) await this.flushBatch();
    await this.window.drain();
    await this.sink.write(this.window.take());
    if (this.window.failed) throw this.window.headFailure;
  }

  private runLines(chunk: LineChunk, source: string): Promise<void> {
    this.run.source = source;
    const batcher = this.batcher;
    const start = batcher && ((text: string, line: number, index: number, bad: string | undefined) => batcher.add(text, line, index, source, bad));
    return runLines(this.run, chunk.lines, chunk.bad, chunk.firstLine, start);
  }

  /** Parsed values (`--input-format json`) through the same loop; their ordinal stands in for a line. */
  private runValues(values: unknown[], source: string, firstOrdinal: number): Promise<void> {
    const run = this.run;
    run.source = source;
    return runRecords(run, values.length, (k) => this.runner.runValue(values[k], firstOrdinal + k, run.nextIndex++, source));
  }

  private async write(out: string): Promise<void> {
    if (out.length > 0) await this.sink.write(out);
    // Dead letters are written as they happen; a slow --errors file holds the run back too.
    await this.errorSink?.drain();
  }

  private addSize(size: number | undefined): void {
    this.counters.totalBytes = size === undefined || this.counters.totalBytes === undefined ? undefined : this.counters.totalBytes + size;
  }
}

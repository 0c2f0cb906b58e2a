import { EXIT } from '../core/exit-codes.js';
import { OpError, UsageError } from '../core/errors.js';
import { withoutCr } from '../io/line-end.js';
import { startProgress } from '../engine/progress.js';
import type { DeadLetter } from '../records/record-runner.js';
import { StopSignal } from '../engine/stop-signal.js';
import { isBlankText } from '../io/is-blank-line.js';
import { checkInputs, inputSize, openPlainFile, openSource, readFailure } from '../io/open-source.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { LineSplitter, type LineChunk } from '../io/split-lines.js';
import { loadAggregator } from './load-aggregator.js';
import type { ReduceOptions } from './reduce-options.js';
import { ReduceStep, type ReduceStats } from './reduce-step.js';

/** Where the lines go: the step on this thread, or the workers. */
interface Target {
  /** Bytes per read. */
  readBytes: number | undefined;
  /** Workers take raw reads and cut lines themselves; then `feed` is unused. */
  raw:
    | {
        start(name: string): void;
        push(bytes: Buffer): Promise<void>;
        /** A regular file's bytes by descriptor, read where the workers read them; calls `count` per read. */
        pushFile(fd: number, count: (bytes: number) => void, stopped: () => boolean): Promise<void>;
        end(): Promise<void>;
      }
    | undefined;
  feed(chunk: LineChunk, source: string): Promise<void>;
  /** When the next window closes by arrival time, if one is open. */
  deadline(): number | undefined;
  /** Closed groups' lines. */
  tick(now: number): string;
  /** Everything left, written to the sink; the run's counters. */
  finish(sink: Sink): Promise<void>;
  stats(): ReduceStats;
  close(): Promise<void>;
}

/**
 * `op reduce`: reads NDJSON lines, feeds the reduce step, and writes the groups it closes
 * (after every read, and on a timer while a live input is quiet), then the rest at end of
 * input. Resolves to the exit status; throws the failure that stopped the run.
 */
export async function runReduce(options: ReduceOptions): Promise<number> {
  checkInputs(options.inputs);
  if (options.workers > 0 && options.window !== undefined) throw new UsageError('-w does not combine with --window yet: windows close on this thread only');
  // Compiled here even with workers, so a handler that does not load is a usage error before any input is read.
  const aggregator = await loadAggregator(options);
  const stop = new StopSignal();
  const sink = openSink(options.output, () => stop.stop('closed-output'));
  const errorSink = options.errors === undefined ? undefined : openSink(options.errors);
  const started = performance.now();
  const deadLetter = errorSink && ((entry: DeadLetter) => void errorSink.write(JSON.stringify(entry) + '\n'));
  const stepOptions = {
    key: options.key,
    window: options.window,
    time: options.time,
    lateness: options.lateness,
    late: options.late,
    // Each worker holds its share of the keys, so each gets its share of the memory.
    maxMemory: options.workers > 0 ? Math.floor(options.maxMemory / options.workers) : options.maxMemory,
    maxMemoryText: options.maxMemoryText,
    spillDir: options.spillDir,
    retries: options.retries,
    retryDelay: options.retryDelay,
    timeout: options.timeout,
    config: options.config,
    idField: options.idField,
    maxErrors: options.maxErrors,
  };
  let target: Target;
  if (options.workers > 0) {
    const { ReduceWorkers, WORKER_READ_BYTES } = await import('./run-workers.js');
    const { agg, collect, handler } = options;
    const workers = new ReduceWorkers(options.workers, { agg, collect, handler, step: stepOptions, deadLetters: deadLetter !== undefined }, deadLetter, options.maxErrors);
    let total: ReduceStats | undefined;
    target = {
      readBytes: WORKER_READ_BYTES,
      raw: {
        start: (name) => workers.startSource(name),
        push: (bytes) => workers.push(bytes),
        pushFile: (fd, count, stopped) => workers.pushFile(fd, count, stopped),
        end: () => workers.endSource(),
      },
      feed: async () => {},
      deadline: () => undefined,
      tick: () => '',
      finish: async (out) => {
        total = await workers.finish(out);
      },
      stats: () => total ?? { in: workers.records, out: 0, dropped: 0, late: 0, errors: workers.errors, retries: 0, spills: 0 },
      close: () => workers.close(),
    };
  } else {
    const step = new ReduceStep({ ...stepOptions, aggregator, signal: stop.handlers.signal, deadLetter, log: (line) => process.stderr.write(`op reduce: ${line}\n`) });
    let nextIndex = 0;
    target = {
      readBytes: undefined,
      raw: undefined,
      feed: async (chunk, source) => {
        nextIndex = await feedStep(step, stop, chunk, source, nextIndex);
      },
      deadline: () => step.deadline(),
      tick: (now) => step.tick(now),
      finish: async (out) => {
        for await (const piece of step.end()) {
          await out.write(piece);
          if (out.closed) break;
        }
      },
      stats: () => step.stats,
      close: async () => step.dispose(),
    };
  }
  const counters: ReadCounters = { bytes: 0 };
  const total = options.progress ? inputSize(options.inputs) : undefined;
  const endProgress = options.progress ? startProgress('op reduce', { done: () => target.stats().in, fraction: () => (total ? counters.bytes / total : undefined) }) : undefined;
  const feeder = new Feeder(target, sink, errorSink, stop, counters);
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      if (stop.stopped) break;
      await feeder.readLines(spec);
    }
    // Stopped by a signal: what was read is still reduced and written; a closed output takes nothing more.
    if (stop.reason !== 'closed-output') await target.finish(sink);
  } catch (error) {
    failure = error;
  } finally {
    await target.close();
  }
  endProgress?.();
  stop.dispose();
  failure ??= await endOutputs(sink, errorSink);
  const stats = target.stats();
  if (options.stats) {
    const ms = Math.round(performance.now() - started);
    process.stderr.write(JSON.stringify({ ...stats, ms }) + '\n');
  }
  if (stop.exitCode !== undefined) return stop.exitCode;
  if (failure !== undefined) throw failure;
  return stats.errors > 0 ? EXIT.deadLettered : EXIT.ok;
}

/** One chunk of lines through the step on this thread; returns the next record index. */
async function feedStep(step: ReduceStep, stop: StopSignal, chunk: LineChunk, source: string, nextIndex: number): Promise<number> {
  const { lines, bad, firstLine } = chunk;
  // A byte-order mark belongs to the file, not to the first record.
  if (firstLine === 1 && lines[0]?.charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  // One arrival time per read: records of one read arrived together.
  const now = Date.now();
  for (let k = 0; k < lines.length; k++) {
    const text = lines[k]!;
    const why = bad?.get(k);
    if (why === undefined && isBlankText(text)) continue;
    const place = { source, line: firstLine + k, index: nextIndex++ };
    if (why !== undefined) {
      step.reject(text, place, why.stage ?? 'read', why);
      continue;
    }
    // CRLF input: the \r is the line ending's, not the record's.
    const clean = withoutCr(text);
    let record: unknown;
    try {
      record = JSON.parse(clean);
    } catch (error) {
      step.reject(clean, place, 'parse', error);
      continue;
    }
    const done = step.push(record, place, now);
    if (done) {
      await done;
      if (stop.stopped) break;
    }
  }
  return nextIndex;
}

/** Input bytes read so far (compressed bytes for gzip), for the progress line: records are reduced as they are read. */
interface ReadCounters {
  bytes: number;
}

/** Lines from each input to the target; closed groups out after every read and whenever a window's time is up. */
class Feeder {
  constructor(
    private readonly target: Target,
    private readonly sink: Sink,
    private readonly errorSink: Sink | undefined,
    private readonly stop: StopSignal,
    private readonly counters: ReadCounters,
  ) {}

  async readLines(spec: string): Promise<void> {
    const raw = this.target.raw;
    if (raw) {
      // A regular file, not compressed: read by descriptor straight into the workers' memory.
      const file = openPlainFile(spec);
      if (file) return this.readFile(raw, file);
    }
    const source = openSource(spec, this.target.readBytes);
    const counters = this.counters;
    const before = counters.bytes;
    let read = 0;
    const count = (bytes: number): void => {
      read += bytes;
      counters.bytes = before + (source.consumed() ?? read);
    };
    const release = this.stop.onStop(() => source.stream.destroy());
    const splitter = new LineSplitter();
    const reads = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      if (raw) {
        raw.start(source.name);
        for (;;) {
          const next = await reads.next();
          if (next.done) break;
          count(next.value.length);
          await raw.push(next.value);
          if (this.stop.stopped) break;
        }
        if (!this.stop.stopped) await raw.end();
        return;
      }
      for (;;) {
        const next = await this.nextRead(reads);
        if (next.done) break;
        count(next.value.length);
        const chunk = splitter.push(next.value);
        if (chunk) await this.feed(chunk, source.name);
        if (this.stop.stopped) break;
      }
      const tail = this.stop.stopped ? undefined : splitter.end();
      if (tail) await this.feed(tail, source.name);
    } catch (error) {
      this.failedRead(source.name, error);
    } finally {
      release();
      await reads.return?.();
    }
  }

  private async readFile(raw: NonNullable<Target['raw']>, file: { name: string; fd: number; close(): void }): Promise<void> {
    const counters = this.counters;
    try {
      raw.start(file.name);
      await raw.pushFile(
        file.fd,
        (bytes) => {
          counters.bytes += bytes;
        },
        () => this.stop.stopped,
      );
      if (!this.stop.stopped) await raw.end();
    } catch (error) {
      this.failedRead(file.name, error);
    } finally {
      file.close();
    }
  }

  /** A failure while reading `name`: opkit's own errors as they are, others as a read failure of `name`; none once the run is stopping. */
  private failedRead(name: string, error: unknown): void {
    if (error instanceof OpError) throw error;
    if (!this.stop.stopped) throw readFailure(name, error);
  }

  /**
   * The next read. With arrival time, a window whose time is up is closed and written
   * while the read is still pending, so a quiet live input still gets its windows on time.
   */
  private async nextRead(reads: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    const next = reads.next();
    for (;;) {
      const deadline = this.target.deadline();
      if (deadline === undefined) return next;
      let timer: NodeJS.Timeout | undefined;
      const due = new Promise<'due'>((resolve) => (timer = setTimeout(() => resolve('due'), Math.max(0, deadline - Date.now()))));
      const first = await Promise.race([next, due]);
      clearTimeout(timer);
      if (first !== 'due') return first;
      await this.write(this.target.tick(Date.now()));
    }
  }

  private async feed(chunk: LineChunk, source: string): Promise<void> {
    await this.target.feed(chunk, source);
    await this.write(this.target.tick(Date.now()));
  }

  private async write(out: string): Promise<void> {
    if (out.length > 0) await this.sink.write(out);
    // Dead letters are written as they happen; a slow --errors file holds the run back too.
    await this.errorSink?.drain();
  }
}

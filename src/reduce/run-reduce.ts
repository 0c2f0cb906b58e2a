import { EXIT } from '../core/exit-codes.js';
import { InputError, OpError, describeCause } from '../core/errors.js';
import { startProgress, type ProgressCounters } from '../engine/progress.js';
import type { DeadLetter } from '../engine/record-runner.js';
import { StopSignal } from '../engine/stop-signal.js';
import { isBlankText } from '../io/is-blank-line.js';
import { checkInputs, openSource } from '../io/open-source.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { LineSplitter, type LineChunk } from '../io/split-lines.js';
import type { Aggregator } from './aggregator.js';
import { builtinAggregator, collectAggregator, parseAggregates } from './builtin-aggregates.js';
import { handlerAggregator } from './handler-aggregator.js';
import type { ReduceOptions } from './reduce-options.js';
import { ReduceStep } from './reduce-step.js';

/**
 * `op reduce`: reads NDJSON lines, feeds the reduce step, and writes the groups it closes
 * (after every read, and on a timer while a live input is quiet), then the rest at end of
 * input. Resolves to the exit status; throws the failure that stopped the run.
 */
export async function runReduce(options: ReduceOptions): Promise<number> {
  checkInputs(options.inputs);
  const aggregator = await loadAggregator(options);
  const stop = new StopSignal();
  const sink = openSink(options.output, () => stop.stop('closed-output'));
  const errorSink = options.errors === undefined ? undefined : openSink(options.errors);
  const started = performance.now();
  const step = new ReduceStep({
    key: options.key,
    aggregator,
    window: options.window,
    time: options.time,
    lateness: options.lateness,
    late: options.late,
    maxMemory: options.maxMemory,
    maxMemoryText: options.maxMemoryText,
    spillDir: options.spillDir,
    retries: options.retries,
    retryDelay: options.retryDelay,
    timeout: options.timeout,
    config: options.config,
    signal: stop.handlers.signal,
    idField: options.idField,
    deadLetter: errorSink && ((entry: DeadLetter) => void errorSink.write(JSON.stringify(entry) + '\n')),
    maxErrors: options.maxErrors,
    log: (line) => process.stderr.write(`op reduce: ${line}\n`),
  });
  const counters: ProgressCounters = { records: () => step.stats.in, bytes: 0, totalBytes: 0 };
  const endProgress = options.progress ? startProgress('op reduce', counters) : undefined;
  const feeder = new Feeder(step, sink, errorSink, stop, counters);
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      if (stop.stopped) break;
      await feeder.readLines(spec);
    }
    // Stopped by a signal: what was read is still reduced and written; a closed output takes nothing more.
    if (stop.reason !== 'closed-output') {
      for await (const piece of step.end()) {
        await sink.write(piece);
        if (sink.closed) break;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    step.dispose();
  }
  endProgress?.();
  stop.dispose();
  failure ??= await endOutputs(sink, errorSink);
  if (options.stats) {
    const ms = Math.round(performance.now() - started);
    process.stderr.write(JSON.stringify({ ...step.stats, ms }) + '\n');
  }
  if (stop.exitCode !== undefined) return stop.exitCode;
  if (failure !== undefined) throw failure;
  return step.stats.errors > 0 ? EXIT.deadLettered : EXIT.ok;
}

async function loadAggregator(options: ReduceOptions): Promise<Aggregator> {
  if (options.agg !== undefined) return builtinAggregator(parseAggregates(options.agg));
  if (options.collect) return collectAggregator();
  return handlerAggregator(options.handler);
}

/** Lines → records → the step; closed groups out after every read and whenever a window's time is up. */
class Feeder {
  private nextIndex = 0;

  constructor(
    private readonly step: ReduceStep,
    private readonly sink: Sink,
    private readonly errorSink: Sink | undefined,
    private readonly stop: StopSignal,
    private readonly counters: ProgressCounters,
  ) {}

  async readLines(spec: string): Promise<void> {
    const source = openSource(spec);
    const counters = this.counters;
    counters.totalBytes = source.size === undefined || counters.totalBytes === undefined ? undefined : counters.totalBytes + source.size;
    const release = this.stop.onStop(() => source.stream.destroy());
    const splitter = new LineSplitter();
    const reads = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.nextRead(reads);
        if (next.done) break;
        counters.bytes += next.value.length;
        const chunk = splitter.push(next.value);
        if (chunk) await this.feed(chunk, source.name);
        if (this.stop.stopped) break;
      }
      const tail = this.stop.stopped ? undefined : splitter.end();
      if (tail) await this.feed(tail, source.name);
    } catch (error) {
      if (error instanceof OpError) throw error;
      if (!this.stop.stopped) throw new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
    } finally {
      release();
      await reads.return?.();
    }
  }

  /**
   * The next read. With arrival time, a window whose time is up is closed and written
   * while the read is still pending, so a quiet live input still gets its windows on time.
   */
  private async nextRead(reads: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    const next = reads.next();
    for (;;) {
      const deadline = this.step.deadline();
      if (deadline === undefined) return next;
      let timer: NodeJS.Timeout | undefined;
      const due = new Promise<'due'>((resolve) => (timer = setTimeout(() => resolve('due'), Math.max(0, deadline - Date.now()))));
      const first = await Promise.race([next, due]);
      clearTimeout(timer);
      if (first !== 'due') return first;
      await this.write(this.step.tick(Date.now()));
    }
  }

  private async feed(chunk: LineChunk, source: string): Promise<void> {
    const { lines, bad, firstLine } = chunk;
    const step = this.step;
    // A byte-order mark belongs to the file, not to the first record.
    if (firstLine === 1 && lines[0]?.charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
    // One arrival time per read: records of one read arrived together.
    const now = Date.now();
    for (let k = 0; k < lines.length; k++) {
      const text = lines[k]!;
      const why = bad?.get(k);
      if (why === undefined && isBlankText(text)) continue;
      const place = { source, line: firstLine + k, index: this.nextIndex++ };
      if (why !== undefined) {
        step.reject(text, place, why.startsWith('invalid') ? 'decode' : 'read', new InputError(why));
        continue;
      }
      // CRLF input: the \r is the line ending's, not the record's.
      const clean = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
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
        if (this.stop.stopped) break;
      }
    }
    await this.write(step.tick(Date.now()));
  }

  private async write(out: string): Promise<void> {
    if (out.length > 0) await this.sink.write(out);
    // Dead letters are written as they happen; a slow --errors file holds the run back too.
    await this.errorSink?.drain();
  }
}

import { Readable } from 'node:stream';
import { EXIT } from '../core/exit-codes.js';
import { OpError, UnsettledError, type Kind, type Stage } from '../core/errors.js';
import type { Executor } from '../executors/executor.js';
import { loadHandler, type HandlerSpec, type LoadedHandler } from '../handler/load-handler.js';
import type { SharedContext } from '../handler/record-context.js';
import { checkInputs, inputSize, openChunkSource, type ChunkSource, readFailure } from '../io/open-source.js';
import { endOutputs, openSink } from '../io/open-sink.js';
import { refuseSameFile, refuseSameOutput } from '../io/same-file.js';
import { overlongError } from '../io/split-lines.js';
import type { BatchLimits } from '../records/batcher.js';
import type { Chunk, ChunkResult, ChunkSetup } from '../records/chunk.js';
import { failedRecords } from '../records/failed-records.js';
import { loadChain, type StepSetup } from '../records/run-steps.js';
import { ChunkRing } from './chunk-ring.js';
import { chunkSetup } from './chunk-setup.js';
import { SideInputs } from './side-inputs.js';
import type { SideSpec } from './side-specs.js';
import { Delivery } from './deliver-results.js';
import { Journal, type FsyncPolicy } from './journal.js';
import { journalHeader } from './journal-header.js';
import { startProgress } from './progress.js';
import { readChunks, type Numbering, type SourceChunk } from './read-chunks.js';
import type { QueueOptions } from './queue-source.js';
import { StopSignal } from './stop-signal.js';

/** Chunks whose results may wait for the journal's fsync (2-3 ms here, ~1,000 records a chunk) while reading goes on. */
const JOURNAL_SLOTS = 8;

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
  /** The progress line's count, in place of `N records` (op each: jobs done, failed, running). */
  progressFields?: (() => string[]) | undefined;
  /** No closing line when records were dead-lettered. */
  quiet: boolean;
  /** After SIGINT/SIGTERM, how long records in flight may take before they are given up on. */
  stopTimeout: number;
  rank: number;
  world: number;
  /** Worker threads (child processes for a command handler); 0 runs the handler on the main thread. */
  workers: number;
  /** A command handler: replacements of failed children allowed within a minute. */
  maxRestarts?: number | undefined;
  /** `op batch`: how records are grouped before the handler sees them. */
  batch?: BatchLimits | undefined;
  /** When aborted, no more records start; records in flight finish (op each --halt). */
  halt?: AbortSignal | undefined;
  /** The dead letters' "stage" for a handler failure (default: the kind). */
  stage?: Stage | undefined;
  /** --journal FILE: finished records are journaled, journaled ones are not run again. */
  journal?: { path: string; fsync: FsyncPolicy; force: boolean; resumeFailed: boolean } | undefined;
  /** `--side`: side inputs, and `--every` for those made by a command. */
  side?: SideSpec[] | undefined;
  sideEveryMs?: number | undefined;
  /** A `then` chain: its steps replace `handler`, and `kind` is slice. */
  steps?: StepSetup[] | undefined;
  /** `--from URL`: records come from a queue instead of `inputs` (engine/queue-source.ts). */
  queue?: QueueOptions | undefined;
  /**
   * The worker threads, started while this module loaded (startThreadsEarly). The run
   * takes them as its executor; a run that fails before it does ends them.
   */
  early?: Promise<Executor> | undefined;
}

/**
 * The trunk under every handler command: one reader cuts each source into numbered
 * chunks, an executor turns each chunk into output, one delivery step writes the results
 * in order. Resolves to the exit status; throws the failure that stopped the run, after
 * everything before it has been written.
 */
export async function runOperator(options: OperatorOptions): Promise<number> {
  const taken = { early: false };
  try {
    return await runTrunk(options, taken);
  } finally {
    if (options.early && !taken.early) await endUnused(options.early);
  }
}

/** Threads started early for a run that ended before it took them: ended at once, their setup() not waited for. */
async function endUnused(early: Promise<Executor>): Promise<void> {
  const executor = await early.catch(() => undefined);
  if (!executor) return;
  await executor.abort(new OpError('the run ended before it started'));
  await executor.close().catch(() => undefined);
}

async function runTrunk(options: OperatorOptions, taken: { early: boolean }): Promise<number> {
  checkInputs(options.inputs);
  // Before any output is opened (and truncated): a run never reads what it writes.
  refuseSameFile(options.inputs, options.errors === undefined ? [options.output] : [options.output, options.errors]);
  refuseSameOutput(options.output, options.errors);
  // Loaded here even with workers, so a module that does not load is a usage error before any input is read.
  const handler = await loadHandler(options.handler);
  for (const step of options.steps ?? []) await loadHandler(step.handler);
  const side = options.side?.length ? await SideInputs.start(options.side, { command: options.command, threads: options.workers > 0 || hasChildStep(options.steps), everyMs: options.sideEveryMs }) : undefined;
  const stop = new StopSignal();
  options.halt?.addEventListener('abort', () => stop.stop('halt'), { once: true });
  const failed = (): void => stop.stop('failed-output');
  const sink = openSink(options.output, () => stop.stop('closed-output'), { onFailed: failed });
  const errorSink = options.errors === undefined ? undefined : openSink(options.errors, undefined, { onFailed: failed, lossIsFailure: { unit: 'dead letters' }, label: '--errors' });
  const started = performance.now();
  const setup = { ...chunkSetup(options), side: side?.share };
  let failure: unknown;
  let delivery: Delivery | undefined;
  let journal: Journal | undefined;
  let endProgress: (() => void) | undefined;
  try {
    journal = options.journal && (await openJournal(options));
    const executor = await startExecutor(options, setup, handler, stop, side, taken);
    const delivered = new Delivery({ sink, errorSink, maxErrors: options.maxErrors, ordered: !options.unordered, beforeWrite: journal && ((result, more) => journal!.durable(result, more)) });
    delivery = delivered;
    if (options.progress) {
      // Counted where every executor's results meet: the delivery step.
      const total = options.queue ? undefined : inputSize(options.inputs);
      endProgress = startProgress(options.command, { done: () => delivered.progress().records, fields: options.progressFields, fraction: () => (total ? delivered.progress().bytes / total : undefined) });
    }
    failure = options.queue
      ? await pumpQueue(options.queue, { command: options.command, rank: options.rank, batch: options.batch, executor, delivery, stop })
      : await pump(options, executor, delivery, stop, journal);
  } catch (error) {
    failure = error;
  }
  endProgress?.();
  try {
    await journal?.close();
  } catch (error) {
    failure ??= error;
  }
  stop.dispose();
  side?.close();
  failure ??= await endOutputs(sink, errorSink);
  const stats = delivery?.stats;
  const deadLettered = stop.exitCode === undefined && failure === undefined && stats !== undefined && stats.errors > 0;
  if (deadLettered && !options.quiet) process.stderr.write(`${options.command}: ${stats.errors} of ${stats.in} records failed; see ${options.queue ? `op queue dead ${options.queue.from}` : options.errors}\n`);
  // The summary is the last line on stderr, for scripts that read it.
  if (options.stats && stats) {
    const ms = Math.round(performance.now() - started);
    const steps = options.steps ? { steps: delivery!.steps } : {};
    const resumed = journal ? { resumed: journal.resumed } : {};
    process.stderr.write(JSON.stringify({ ...stats, ...resumed, ms, ...steps }) + '\n');
  }
  if (stop.exitCode !== undefined) return stop.exitCode;
  if (failure !== undefined) throw failure;
  if (!deadLettered) return EXIT.ok;
  return EXIT.deadLettered;
}

/** Loaded only with --from, so other runs never load the Redis client. */
async function pumpQueue(...args: Parameters<typeof import('./queue-source.js').pumpQueue>): Promise<unknown> {
  const { pumpQueue: pumpFrom } = await import('./queue-source.js');
  return pumpFrom(...args);
}

/** Reads every input through the executor into the delivery step; returns the failure that stopped the run, if any. */
async function pump(options: OperatorOptions, executor: Executor, delivery: Delivery, stop: StopSignal, journal: Journal | undefined): Promise<unknown> {
  // With a journal, results wait for their fsync while later chunks are read and run.
  const ring = ChunkRing.for(executor, journal ? JOURNAL_SLOTS : 0);
  const halted = (): boolean => stop.stopped || delivery.failed;
  // A stop lets records in flight finish for --stop-timeout; then they are given up on and named.
  const releaseStop = stop.onStop(() => {
    if (stop.reason !== 'SIGINT' && stop.reason !== 'SIGTERM') return;
    const reason = stop.reason;
    setTimeout(() => void Promise.resolve(executor.abort(new UnsettledError(`not finished: stopped by ${reason}`))).then((places) => nameUnfinished(options.command, places, reason)), options.stopTimeout).unref();
  });
  const numbering: Numbering = { line: 1, index: 0 };
  // Overlapping chunks on the main thread all progress at once; a kill repeats what finished in them, so with a journal two overlap.
  const journaled = new ChunksInFlight(executor.readAhead ? 2 : executor.capacity);
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      if (halted()) break;
      const source = openInput(spec, options.inputFormat, executor.readAhead);
      const release = stop.onStop(() => source.stream.destroy());
      // Line numbers are per source; record indexes run on across sources.
      numbering.line = 1;
      try {
        for await (const chunk of readChunks(source, { ring, numbering, halted, batch: options.batch, chunkBytes: (remaining) => (journal ? journal.chunkBytes(executor.chunkBytes(remaining)) : executor.chunkBytes(remaining)) })) {
          const errorLimit = options.maxErrors === undefined ? undefined : { max: options.maxErrors, before: delivery.errors };
          // In input order, finished records are written while slow ones in the same chunk still run.
          const stream = journal || options.unordered ? undefined : delivery.stream();
          const execute = (part: Chunk): Promise<ChunkResult> => executor.run(part, { errorLimit, stream });
          const result = chunk.overlong ? Promise.resolve(overlongResult(chunk, options)) : journal ? journal.run(chunk, execute) : execute(chunk);
          if (journal) await journaled.next(result);
          delivery.add(result, { bytes: chunk.inputBytes, records: chunk.records }, () => chunk.slot && ring.release(chunk.slot), stream);
        }
      } catch (error) {
        if (!stop.stopped) throw readFailure(source.name, error);
      } finally {
        release();
        source.close();
      }
    }
  } catch (error) {
    failure = error;
  }
  executor.endInput?.();
  await delivery.settle();
  releaseStop();
  failure = delivery.failure ?? failure;
  try {
    await executor.close();
  } catch (error) {
    failure ??= error;
  }
  return failure;
}

/** At most this many unfinished records are named one by one. */
const NAMED_UNFINISHED = 20;

function nameUnfinished(command: string, places: Array<{ source: string; line: number }>, reason: string): void {
  for (const { source, line } of places.slice(0, NAMED_UNFINISHED)) process.stderr.write(`${command}: ${source}:${line}: not finished: stopped by ${reason}\n`);
  if (places.length > NAMED_UNFINISHED) process.stderr.write(`${command}: … and ${places.length - NAMED_UNFINISHED} more records not finished\n`);
}

/** At most `max` chunk results outstanding: `next` waits for the oldest beyond that. */
class ChunksInFlight {
  private readonly results: Array<Promise<unknown>> = [];

  constructor(private readonly max: number) {}

  async next(result: Promise<unknown>): Promise<void> {
    this.results.push(result.then(noop, noop));
    if (this.results.length > this.max) await this.results.shift();
  }
}

function noop(): void {}

function openInput(spec: string, format: 'ndjson' | 'json', readAhead: boolean): ChunkSource {
  // JSON values become lines on the way, so they are read through a stream.
  const source = openChunkSource(spec, { readAhead, stream: format === 'json' });
  if (format === 'ndjson') return source;
  // The lines made from JSON values are not the file's bytes: progress counts what the file stream read.
  const raw = source.stream as { bytesRead?: number };
  return { ...source, stream: Readable.from(jsonLines(source.stream, source.name)), consumed: () => source.consumed?.() ?? raw.bytesRead };
}

async function* jsonLines(stream: NodeJS.ReadableStream, name: string): AsyncGenerator<Buffer> {
  const { jsonToLines } = await import('../io/json-to-lines.js');
  yield* jsonToLines(stream as AsyncIterable<Buffer>, name);
}

function overlongResult(chunk: SourceChunk, options: OperatorOptions): ChunkResult {
  return failedRecords([{ line: chunk.firstLine, text: '' }], chunk.source, overlongError(), { stage: 'read', attempts: 0, deadLetters: options.errors !== undefined });
}

async function startExecutor(options: OperatorOptions, setup: ChunkSetup, handler: LoadedHandler, stop: StopSignal, side: SideInputs | undefined, taken: { early: boolean }): Promise<Executor> {
  if (options.early) {
    taken.early = true;
    return await options.early;
  }
  if (options.handler.type === 'command') {
    const { ProcessesExecutor } = await import('../executors/processes.js');
    const { argv, protocol } = options.handler;
    return ProcessesExecutor.start(setup, { argv, protocol, workers: Math.max(1, options.workers), maxRestarts: options.maxRestarts ?? 10, stopTimeout: options.stopTimeout, signal: stop.handlers.signal, side: side?.share && { dir: side.share.dir, version: () => side.current().version } });
  }
  if (options.workers > 0) {
    const { ThreadsExecutor } = await import('../executors/threads.js');
    return new ThreadsExecutor(setup, options.workers);
  }
  const { InlineExecutor } = await import('../executors/inline.js');
  const shared: SharedContext = {
    command: options.command,
    rank: options.rank,
    world: options.world,
    workerId: 0,
    config: options.config,
    signal: stop.handlers.signal,
    workdir: setup.workdir,
    log: (line) => process.stderr.write(line + '\n'),
    side,
  };
  return InlineExecutor.start(setup, setup.steps ? await loadChain(setup.steps, shared, side?.share?.dir) : handler, shared, () => stop.stopped);
}

/** A step served by a child reads the side inputs from the files versions are published to, as worker threads do. */
function hasChildStep(steps: StepSetup[] | undefined): boolean {
  return steps?.some((step) => step.handler.type === 'command') === true;
}


async function openJournal(options: OperatorOptions): Promise<Journal> {
  const { path, fsync, force, resumeFailed } = options.journal!;
  const header = journalHeader(options.command, options.handler, options.idField, options.steps);
  return Journal.open({ path, fsync, force, resumeFailed, header, idField: options.idField, deadLetters: options.errors !== undefined, ordered: !options.unordered, command: options.command });
}

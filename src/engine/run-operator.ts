import { Readable } from 'node:stream';
import { EXIT } from '../core/exit-codes.js';
import { OpError, describeCause, type Kind } from '../core/errors.js';
import type { Executor } from '../executors/executor.js';
import { loadHandler, type HandlerSpec, type LoadedHandler } from '../handler/load-handler.js';
import type { SharedContext } from '../handler/record-context.js';
import { checkInputs, openChunkSource, type ChunkSource } from '../io/open-source.js';
import { endOutputs, openSink } from '../io/open-sink.js';
import { overlongError } from '../io/split-lines.js';
import type { BatchLimits } from '../records/batcher.js';
import type { ChunkResult, ChunkSetup } from '../records/chunk.js';
import { failedRecords } from '../records/failed-records.js';
import { ChunkRing } from './chunk-ring.js';
import { Delivery } from './deliver-results.js';
import { startProgress, type ProgressCounters } from './progress.js';
import { readChunks, type Numbering, type SourceChunk } from './read-chunks.js';
import type { QueueOptions } from './queue-source.js';
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
  /** No closing line when records were dead-lettered. */
  quiet: boolean;
  rank: number;
  world: number;
  /** Worker threads; 0 runs the handler on the main thread. */
  workers: number;
  /** `op batch`: how records are grouped before the handler sees them. */
  batch?: BatchLimits | undefined;
  /** `--from URL`: records come from a queue instead of `inputs` (engine/queue-source.ts). */
  queue?: QueueOptions | undefined;
}

/**
 * The trunk under every handler command: one reader cuts each source into numbered
 * chunks, an executor turns each chunk into output, one delivery step writes the results
 * in order. Resolves to the exit status; throws the failure that stopped the run, after
 * everything before it has been written.
 */
export async function runOperator(options: OperatorOptions): Promise<number> {
  checkInputs(options.inputs);
  // Loaded here even with workers, so a module that does not load is a usage error before any input is read.
  const handler = await loadHandler(options.handler);
  const stop = new StopSignal();
  const failed = (): void => stop.stop('failed-output');
  const sink = openSink(options.output, () => stop.stop('closed-output'), { onFailed: failed });
  const errorSink = options.errors === undefined ? undefined : openSink(options.errors, undefined, { onFailed: failed, lossIsFailure: { unit: 'dead letters' }, label: '--errors' });
  const started = performance.now();
  const setup = chunkSetup(options);
  let failure: unknown;
  let delivery: Delivery | undefined;
  try {
    const executor = await startExecutor(options, setup, handler, stop);
    delivery = new Delivery({ sink, errorSink, maxErrors: options.maxErrors, ordered: !options.unordered });
    failure = options.queue ? await pumpQueue(options.queue, { command: options.command, rank: options.rank, batch: options.batch, executor, delivery, stop }) : await pump(options, executor, delivery, stop);
  } catch (error) {
    failure = error;
  }
  stop.dispose();
  failure ??= await endOutputs(sink, errorSink);
  const stats = delivery?.stats;
  const deadLettered = stop.exitCode === undefined && failure === undefined && stats !== undefined && stats.errors > 0;
  if (deadLettered && !options.quiet) process.stderr.write(`${options.command}: ${stats.errors} of ${stats.in} records failed; see ${options.queue ? `op queue dead ${options.queue.from}` : options.errors}\n`);
  // The summary is the last line on stderr, for scripts that read it.
  if (options.stats && stats) {
    const ms = Math.round(performance.now() - started);
    process.stderr.write(JSON.stringify({ ...stats, ms }) + '\n');
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
async function pump(options: OperatorOptions, executor: Executor, delivery: Delivery, stop: StopSignal): Promise<unknown> {
  const ring = new ChunkRing(executor.capacity + 1, executor.slotBytes);
  const counters: ProgressCounters = { records: () => delivery.stats.in, bytes: 0, totalBytes: 0 };
  const endProgress = options.progress ? startProgress(options.command, counters) : undefined;
  const halted = (): boolean => stop.stopped || delivery.failed;
  const numbering: Numbering = { line: 1, index: 0 };
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      if (halted()) break;
      const source = openInput(spec, options.inputFormat, executor.readAhead);
      counters.totalBytes = source.size === undefined || counters.totalBytes === undefined ? undefined : counters.totalBytes + source.size;
      const release = stop.onStop(() => source.stream.destroy());
      // Line numbers are per source; record indexes run on across sources.
      numbering.line = 1;
      try {
        for await (const chunk of readChunks(source, { ring, numbering, halted, batch: options.batch, chunkBytes: () => executor.chunkBytes() })) {
          counters.bytes += chunk.bytes.length;
          const errorLimit = options.maxErrors === undefined ? undefined : { max: options.maxErrors, before: delivery.errors };
          const result = chunk.overlong ? Promise.resolve(overlongResult(chunk, options)) : executor.run(chunk, { errorLimit });
          delivery.add(result, { bytes: chunk.bytes.length }, () => chunk.slot && ring.release(chunk.slot));
        }
      } catch (error) {
        if (!stop.stopped) throw error instanceof OpError ? error : new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
      } finally {
        release();
        source.close();
      }
    }
  } catch (error) {
    failure = error;
  }
  await delivery.settle();
  failure = delivery.failure ?? failure;
  try {
    await executor.close();
  } catch (error) {
    failure ??= error;
  }
  endProgress?.();
  return failure;
}

function openInput(spec: string, format: 'ndjson' | 'json', readAhead: boolean): ChunkSource {
  // JSON values become lines on the way, so they are read through a stream.
  const source = openChunkSource(spec, { readAhead: readAhead || format === 'json' });
  if (format === 'ndjson') return source;
  return { ...source, stream: Readable.from(jsonLines(source.stream, source.name)) };
}

async function* jsonLines(stream: NodeJS.ReadableStream, name: string): AsyncGenerator<Buffer> {
  const { jsonToLines } = await import('../io/json-to-lines.js');
  yield* jsonToLines(stream as AsyncIterable<Buffer>, name);
}

function overlongResult(chunk: SourceChunk, options: OperatorOptions): ChunkResult {
  return failedRecords([{ line: chunk.firstLine, text: '' }], chunk.source, overlongError(), { stage: 'read', attempts: 0, deadLetters: options.errors !== undefined });
}

async function startExecutor(options: OperatorOptions, setup: ChunkSetup, handler: LoadedHandler, stop: StopSignal): Promise<Executor> {
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
  };
  return InlineExecutor.start(setup, handler, shared);
}

function chunkSetup(options: OperatorOptions): ChunkSetup {
  return {
    command: options.command,
    kind: options.kind,
    handler: options.handler,
    concurrency: options.concurrency,
    unordered: options.unordered,
    retries: options.retries,
    retryDelay: options.retryDelay,
    timeout: options.timeout,
    // A queue takes failed records into its :dead stream.
    deadLetters: options.errors !== undefined || options.queue !== undefined,
    idField: options.idField,
    config: options.config,
    workdir: options.workdir === undefined ? undefined : { root: options.workdir, keep: options.keepWorkdirs },
    rank: options.rank,
    world: options.world,
    batch: options.batch,
    // --to stores each record's results with its entry; a chunk then runs in order.
    ...(options.queue?.to === undefined ? {} : { recordSpans: true, unordered: false }),
  };
}

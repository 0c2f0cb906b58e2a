import type { Executor } from '../executors/executor.js';
import type { ChunkSetup } from '../records/chunk.js';
import type { OperatorOptions } from './run-operator.js';

/** What every executor needs to run a chunk, from the run's options. */
export function chunkSetup(options: OperatorOptions): ChunkSetup {
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
    // --journal and --to keep each record's result apart, by its line.
    perRecord: options.journal !== undefined || options.queue?.to !== undefined,
    // The journal merges a chunk's outputs as one text; a queue's --to takes them one by one.
    packRecords: options.journal !== undefined,
    stage: options.stage,
    steps: options.steps,
  };
}

/**
 * Starts the worker threads of a run that will have them, before the engine's modules are
 * loaded: a thread takes ~0.1 s to start and load its handler, on the other core, while
 * the main thread loads the engine and the handler itself (bench small-w2). Undefined
 * where the threads need what only the run makes (side inputs) or there are none.
 */
export function startThreadsEarly(options: OperatorOptions): Promise<Executor> | undefined {
  if (options.workers <= 0 || options.handler.type === 'command' || options.side?.length) return undefined;
  const started = import('../executors/threads.js').then(({ ThreadsExecutor }) => new ThreadsExecutor(chunkSetup(options), options.workers));
  // Seen by the run (or by runOperator's cleanup); never an unhandled rejection meanwhile.
  started.catch(() => undefined);
  return started;
}

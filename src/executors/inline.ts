import { OpError, UnsettledError, describeCause } from '../core/errors.js';
import type { LoadedHandler } from '../handler/load-handler.js';
import { lifecycleContext, type SharedContext } from '../handler/record-context.js';
import { interceptExit, redirectStdout } from '../handler/guard-process.js';
import { CallLimit } from '../records/call-limit.js';
import type { Chunk, ChunkResult, ChunkSetup } from '../records/chunk.js';
import { ChunkRunner } from '../records/run-chunk.js';
import type { ExecuteOptions, Executor } from './executor.js';

/**
 * 64 KiB chunks on the main thread: at 256 KiB and 1 MiB the decoded strings outgrow the
 * young generation; 64 KiB was fastest and smallest (bench/RESULTS.md).
 */
const CHUNK_BYTES = Number(process.env.OP_READ_BYTES) || 64 * 1024;
/** Chunks in flight beyond --concurrency's needs are useless; this caps the ring's memory. */
const MAX_CHUNKS = 256;

/**
 * The handler on the main thread. Chunks overlap, so an async handler keeps --concurrency
 * calls in flight across chunk edges (and on a trickling pipe, where each read is a chunk
 * of one record); the calls are limited once, for all chunks together.
 */
export class InlineExecutor implements Executor {
  readonly capacity: number;
  readonly slotBytes = CHUNK_BYTES;
  readonly readAhead = true;
  private readonly runner: ChunkRunner;
  private errors = 0;
  /**
   * The event loop ran empty while records are in flight: nothing can ever settle them
   * (a promise no one resolves). Without this, Node would end the process (exit 13) with
   * finished records unwritten; instead each such record fails, and the run ends cleanly.
   */
  private readonly onEmptyLoop = (): void => {
    this.runner.abandon(new UnsettledError());
  };

  private constructor(
    setup: ChunkSetup,
    private readonly handler: LoadedHandler,
    private readonly shared: SharedContext,
    private readonly halted: () => boolean,
  ) {
    this.capacity = Math.min(MAX_CHUNKS, setup.concurrency + 1);
    this.runner = new ChunkRunner(setup, handler, shared, new CallLimit(setup.concurrency));
    process.on('beforeExit', this.onEmptyLoop);
  }

  /** Runs the handler's setup once, before any record. */
  /** `halted`: true once the run stops taking records (a signal, a halt), so a chunk in progress ends there. */
  static async start(setup: ChunkSetup, handler: LoadedHandler, shared: SharedContext, halted: () => boolean): Promise<InlineExecutor> {
    // Undone when the process ends: nothing of opkit's writes to process.stdout or exits while records run.
    redirectStdout(`${setup.command}: `);
    interceptExit();
    if (handler.setup) await callLifecycle('setup', () => handler.setup?.(lifecycleContext(shared)));
    return new InlineExecutor(setup, handler, shared, halted);
  }

  chunkBytes(): number {
    return CHUNK_BYTES;
  }

  async run(chunk: Chunk, options: ExecuteOptions): Promise<ChunkResult> {
    // Chunks run here one after another, so the failures of those not yet delivered count too.
    const limit = options.errorLimit && { max: options.errorLimit.max, before: Math.max(options.errorLimit.before, this.errors) };
    const result = await this.runner.run(chunk, { errorLimit: limit, halted: this.halted, stream: options.stream });
    this.errors += result.stats.errors;
    return result;
  }

  async close(): Promise<void> {
    process.off('beforeExit', this.onEmptyLoop);
    if (this.handler.teardown) await callLifecycle('teardown', () => this.handler.teardown?.(lifecycleContext(this.shared)));
  }

  abort(cause: OpError): Array<{ source: string; line: number }> {
    const unfinished = this.runner.unfinished;
    this.runner.abandon(cause);
    return unfinished;
  }
}

async function callLifecycle(stage: 'setup' | 'teardown', call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    throw new OpError(`${stage} failed: ${describeCause(error)}`, { cause: error, stage });
  }
}

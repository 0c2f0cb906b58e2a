import type { OpError } from '../core/errors.js';
import type { Chunk, ChunkResult } from '../records/chunk.js';
import type { OutputStream } from '../records/run-chunk.js';

export interface ExecuteOptions {
  /** With --max-errors: the limit, and the failures delivered before this chunk was sent. */
  errorLimit: { max: number; before: number } | undefined;
  /** Where output may go as it is produced; an executor that runs chunks elsewhere leaves it unused. */
  stream?: OutputStream | undefined;
}

/**
 * Turns chunks into results; the trunk (engine/run-operator.ts) does the reading and the
 * ordered delivery around it. Executors: inline (the main thread), threads (worker
 * threads), and any other that can take a chunk of whole lines and give back its output.
 */
export interface Executor {
  /** Chunks it works on at once; the reader never has more out. */
  readonly capacity: number;
  /**
   * Ring slots beyond `capacity`: a chunk finished ahead of an earlier one keeps its slot
   * until that one is written, and without spares the worker that finished it would wait.
   */
  readonly spareSlots?: number;
  /** Bytes of a ring slot: the largest chunk, and the reads' buffer size. */
  readonly slotBytes: number;
  /** True when the main thread runs the records: reads should overlap with that work. */
  readonly readAhead: boolean;
  /**
   * True when chunks are read by other threads in place (`Chunk.sab`): ring slots are then
   * shared memory. Otherwise they are plain memory, which V8 copies and decodes faster
   * (every copy into or out of shared memory takes its relaxed-atomic path).
   */
  readonly sharedSlots?: boolean;
  /**
   * Bytes the next chunk should aim for, so every worker has work whatever the input size;
   * `remaining`: bytes of the input still to read, when its size is known.
   */
  chunkBytes(remaining?: number): number;
  /** The chunk's result; a failure of the executor itself (not of a record) rejects. */
  run(chunk: Chunk, options: ExecuteOptions): Promise<ChunkResult>;
  /**
   * No more chunks will come (the input ended, or the run stops): an executor whose work
   * waits on that (a child process that answers at end of input) may act on it before
   * the last results are in.
   */
  endInput?(): void;
  /** After the last result: teardown, then release everything; rejects with teardown's failure. */
  close(): Promise<void>;
  /**
   * Stop now (a stop's --stop-timeout ran out): every record in flight fails with `cause`,
   * and their places are returned, to be named. Records that finished are still delivered:
   * an executor that runs chunks elsewhere may take a moment to hand them back.
   */
  abort(cause: OpError): Array<{ source: string; line: number }> | Promise<Array<{ source: string; line: number }>>;
}

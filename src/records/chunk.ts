import type { SideShare } from '../handler/side-inputs.js';
import type { StepSetup, StepStats } from './run-steps.js';
import type { ErrorData, Kind, Stage } from '../core/errors.js';
import type { HandlerSpec } from '../handler/load-handler.js';
import type { BatchLimits } from './batcher.js';
import type { DeadLetter } from './record-runner.js';
import type { LineHashes } from './line-hashes.js';
import type { Stats } from './stats.js';

/** What runs every chunk of one operator: the same in every executor (plain data, so it can be sent to a thread). */
export interface ChunkSetup {
  command: string;
  kind: Kind;
  handler: HandlerSpec;
  concurrency: number;
  unordered: boolean;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  /** With --errors: failures become dead letters instead of stopping the run. */
  deadLetters: boolean;
  idField: string | undefined;
  config: unknown;
  workdir: { root: string; keep: boolean } | undefined;
  rank: number;
  world: number;
  /** op batch: how records are grouped (the reader cuts the batches). */
  batch: BatchLimits | undefined;
  /** The dead letters' "stage" for a handler failure (default: the kind). */
  stage?: Stage | undefined;
  /**
   * One `out` piece per unit (a record, or for op batch a batch), named in
   * `ChunkResult.outLines`: for a sink that keeps each record's result apart (--journal,
   * `--to` a queue). Off: output may stream and the hot path is unchanged.
   */
  perRecord?: boolean | undefined;
  /** Set with `perRecord` for --journal: the pieces come packed (ChunkResult.packed), for the journal's merge. */
  packRecords?: boolean | undefined;
  /** A `then` chain: its steps, run as one handler of kind slice (records/run-steps.ts). */
  steps?: StepSetup[] | undefined;
  /** With --side and worker threads: where workers follow the side inputs' versions. */
  side?: SideShare | undefined;
}

/** Whole lines of one source, numbered by the reader before any executor sees them. */
export interface Chunk {
  /** The lines' bytes (a view of shared memory, for executors that send it elsewhere). */
  bytes: Buffer;
  sab: SharedArrayBuffer | undefined;
  firstLine: number;
  firstIndex: number;
  /** Records (non-blank lines) in the chunk. */
  records: number;
  /** op batch: the records of each batch, in order (a chunk holds whole batches). */
  batches: number[] | undefined;
  source: string;
  /** With --journal: lines whose records are journaled, so they are not run (their indexes still count). */
  skip?: number[] | undefined;
  /** A fresh --journal keyed by line: the chunk's line hashes come back in `ChunkResult.lineHashes`, made where it runs. */
  hashLines?: boolean | undefined;
}

/** What a chunk turned into. */
export interface ChunkResult {
  /** Output text or bytes, in order. */
  out: Array<string | ArrayBuffer | Uint8Array>;
  stats: Stats;
  deadLetters: DeadLetter[];
  /**
   * For each dead letter, how many `out` pieces were produced before it: with `--errors`
   * and the output on one stream (`--errors /dev/stderr 2>&1`), both stay in the order
   * they happened.
   */
  deadLetterAt: number[];
  /** Without --errors: the record failure that stops the run (everything before it is in `out`). */
  failure: ErrorData | undefined;
  /** The handler could not start (setup threw): the run stops. */
  setupFailure: ErrorData | undefined;
  /** Time the chunk function spent on it, for task sizing. */
  ms: number;
  /** With `perRecord`: the line of the record (of a batch: its last) each `out` piece came from. */
  outLines?: number[] | undefined;
  /**
   * With `perRecord`, the pieces may come packed (recordPieces): `out` is then one piece,
   * all of them joined, and piece k is `packed[k]` UTF-16 code units long. One text, or one
   * buffer across a thread, costs far less than a million small ones.
   */
  packed?: number[] | undefined;
  /** With the chunk's `hashLines`: the hash of every record line of the chunk (the journal's keys). */
  lineHashes?: LineHashes | undefined;
  /** With `perRecord` and --side: the side inputs' version each record started with, as pairs [line, version, …]. */
  sideAt?: number[] | undefined;
  /** A chain's counters per step. */
  steps?: StepStats[] | undefined;
  /**
   * A stop reached the chunk (threads): the places of the records it gave up on, or
   * `'all'` when it came before the chunk started, so none of it ran.
   */
  stopped?: Array<{ source: string; line: number }> | 'all' | undefined;
}

import type { DeadLetter } from '../engine/record-runner.js';
import type { BatchLimits } from '../engine/batcher.js';
import type { Kind } from '../engine/kinds.js';
import type { Stats } from '../engine/stats.js';
import type { HandlerSpec } from '../handler/load-handler.js';

/** What every worker is started with (structured-cloned once, as workerData). */
export interface WorkerSetup {
  command: string;
  kind: Kind;
  handler: HandlerSpec;
  concurrency: number;
  unordered: boolean;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  deadLetters: boolean;
  idField: string | undefined;
  config: unknown;
  workdir: { root: string; keep: boolean } | undefined;
  rank: number;
  world: number;
  /** op batch: how records are grouped (the main thread cuts the batches). */
  batch: BatchLimits | undefined;
}

/** One chunk of whole lines, in shared memory the main thread read it into. */
export interface ChunkTask {
  sab: SharedArrayBuffer;
  start: number;
  end: number;
  firstLine: number;
  firstIndex: number;
  source: string;
  /** op batch: the records of each batch in this chunk, in order. */
  batches: number[] | undefined;
  /** With --timeout: [last sign of life in ms since epoch, the worker's threadId], for the main thread's watchdog. */
  beat: SharedArrayBuffer | undefined;
}

/** A failure that stops the run, as plain data (errors do not cross threads intact). */
export interface FailureData {
  name: string;
  message: string;
  exitCode: number;
  place: { source: string; line: number } | undefined;
  excerpt: string | undefined;
}

export interface ChunkResult {
  /** Output bytes, in pieces (transferred, not copied). */
  out: ArrayBuffer[];
  stats: Stats;
  deadLetters: DeadLetter[];
  failure: FailureData | undefined;
  /** The worker could not start (setup threw): the run stops. */
  setupFailure: FailureData | undefined;
}

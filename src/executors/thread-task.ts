/** One chunk for a worker thread: a range of the shared memory the reader read it into. */
export interface ThreadTask {
  sab: SharedArrayBuffer;
  start: number;
  end: number;
  firstLine: number;
  firstIndex: number;
  source: string;
  /** op batch: the records of each batch in this range, in order. */
  batches: number[] | undefined;
  /** With --journal: lines of journaled records, not to run. */
  skip: number[] | undefined;
  /** A fresh --journal keyed by line: hash the lines (ChunkResult.lineHashes). */
  hashLines: boolean | undefined;
  /** ChunkLines.suspects: made on the main thread, or undefined for the worker to make. */
  suspects: number[] | undefined;
  errorLimit: { max: number; before: number } | undefined;
  /** With --timeout: [last sign of life in ms since epoch, the worker's threadId], for the main thread's watchdog. */
  beat: SharedArrayBuffer | undefined;
}

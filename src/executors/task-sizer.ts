/**
 * 16 KiB first tasks: about 100 typical records, so a small input still reaches every
 * worker; 1 MiB tasks left a 2,000-record file (300 KiB) to one worker of two.
 */
const FIRST_BYTES = 16 * 1024;
/** The smallest task, so that message overhead stays small next to the work. */
const MIN_BYTES = 4 * 1024;
/**
 * 50 ms of work per task: long enough that a message and its transfer (tens of µs) cost
 * nothing and a trivial handler still gets the largest tasks, short enough that tasks
 * spread over the workers even for a few thousand slow records.
 */
const TARGET_MS = 50;
/**
 * Near the end of an input of known size a task is at most what is left over twice the
 * workers (guided scheduling, as OpenMP's schedule(guided)), but not under 1 KiB: the last
 * tasks then end close together. With 50 ms tasks the last one left a worker idle for up
 * to 50 ms, 4% of a 2,000-record run with a 1 ms handler at -w 2 (bench/RESULTS.md small-w2).
 */
const END_SHARE = 2;
const END_MIN_BYTES = 1024;

/**
 * Adaptive task sizes: start small, then aim each task at TARGET_MS of work from the
 * measured cost per byte of the tasks so far (a moving average), between MIN_BYTES and
 * `max`. A cheap handler grows to the largest tasks within a few; a slow one keeps them
 * small, so every worker has work whatever the input size and handler speed.
 */
export class TaskSizer {
  private msPerByte: number | undefined;
  private readonly first: number;
  private readonly min: number;
  private readonly targetMs: number;
  private readonly workers: number;

  constructor(
    private readonly max: number,
    options: { first?: number; min?: number; targetMs?: number; workers?: number } = {},
  ) {
    this.first = options.first ?? FIRST_BYTES;
    this.min = options.min ?? MIN_BYTES;
    this.targetMs = options.targetMs ?? TARGET_MS;
    this.workers = options.workers ?? 1;
  }

  /** The next task's bytes; `remaining`: the input's bytes still unread, when its size is known. */
  next(remaining?: number): number {
    const size = this.measured();
    if (remaining === undefined) return size;
    return Math.round(Math.max(Math.min(END_MIN_BYTES, size), Math.min(size, remaining / (END_SHARE * this.workers))));
  }

  private measured(): number {
    if (this.msPerByte === undefined) return Math.min(this.max, this.first);
    const bytes = this.msPerByte > 0 ? this.targetMs / this.msPerByte : this.max;
    return Math.round(Math.min(this.max, Math.max(this.min, bytes)));
  }

  /** A task of `bytes` took `ms` of work (measured in the worker, without queueing). */
  record(bytes: number, ms: number): void {
    if (bytes === 0) return;
    const cost = ms / bytes;
    this.msPerByte = this.msPerByte === undefined ? cost : this.msPerByte * 0.7 + cost * 0.3;
  }
}

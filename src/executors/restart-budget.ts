/** Replacements are counted over this window (--max-restarts N within a minute). */
const WINDOW_MS = 60_000;
/** The first replacement waits 100 ms, each later one twice as long, up to 5 s. */
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

/**
 * Replacements of failed children: how long the next one waits (backoff over the failures
 * of the last minute, so a child that keeps dying is not restarted in a tight loop) and
 * whether --max-restarts is spent.
 */
export class RestartBudget {
  private readonly times: number[] = [];

  constructor(private readonly max: number) {}

  /** Counts one replacement; false when it is one more than --max-restarts allows within the window. */
  take(now = Date.now()): boolean {
    while (this.times.length > 0 && now - this.times[0]! >= WINDOW_MS) this.times.shift();
    this.times.push(now);
    return this.times.length <= this.max;
  }

  /** Replacements within the window. */
  get recent(): number {
    const now = Date.now();
    return this.times.filter((time) => now - time < WINDOW_MS).length;
  }

  /** The wait before the replacement just taken starts. */
  delayMs(): number {
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, this.recent - 1));
  }
}

import type { RestartWindow } from './parse-policy.js';

/** The longest wait between restarts: a crash loop costs little, a recovered service waits little. */
export const MAX_DELAY_MS = 30_000;
/** A run this long was healthy: the next crash starts the backoff again from the first delay. */
export const HEALTHY_MS = 30_000;
/** Jitter takes up to 20% off each delay, so workers that crash together do not restart in lockstep. */
const JITTER = 0.2;

export type Verdict = { restart: true; delayMs: number } | { restart: false; giveUp: string | undefined };

/**
 * One worker's restart policy: `--restart` (how many restarts in all), `--max-restarts-in`
 * (how many crashes in any window), and the backoff between restarts (doubling from the
 * first delay, reset by a healthy run).
 */
export class RestartBudget {
  private restarts = 0;
  /** Crashes since the last healthy run: the backoff exponent. */
  private streak = 0;
  private crashes: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly window: RestartWindow,
    private readonly firstDelayMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** A run that lasted `ranMs` exited non-zero at `now` (ms): start it again, and when? */
  afterFailure(ranMs: number, now: number): Verdict {
    if (ranMs >= HEALTHY_MS) this.streak = 0;
    this.crashes = this.crashes.filter((at) => now - at < this.window.ms);
    this.crashes.push(now);
    if (this.limit === 0) return { restart: false, giveUp: undefined };
    if (this.restarts >= this.limit) return { restart: false, giveUp: `restarted ${this.restarts} times (--restart ${this.limit})` };
    if (this.crashes.length > this.window.count) {
      return { restart: false, giveUp: `failed ${this.crashes.length} times within ${this.window.ms / 1000} s (--max-restarts-in ${this.window.count}/${this.window.ms / 1000})` };
    }
    const delayMs = restartDelay(this.firstDelayMs, this.streak, this.random);
    this.streak += 1;
    this.restarts += 1;
    return { restart: true, delayMs };
  }

  get count(): number {
    return this.restarts;
  }
}

/** `first × 2^streak`, capped at 30 s (or at `first`, when that is longer), minus up to 20% jitter. */
export function restartDelay(firstMs: number, streak: number, random: () => number = Math.random): number {
  const full = Math.min(Math.max(MAX_DELAY_MS, firstMs), firstMs * 2 ** streak);
  return Math.round(full * (1 - JITTER * random()));
}

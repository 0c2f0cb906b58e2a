import { setTimeout as sleep } from 'node:timers/promises';

/** Longest single wait between retries, so a large --retries cannot stall a run for hours. */
const MAX_DELAY_MS = 60_000;

/**
 * Delay before attempt `attempt + 1`: `base * 2^(attempt-1)`, with "equal jitter" (a random
 * point in the upper half) so that records failing together do not retry in lockstep.
 */
export function backoffMs(base: number, attempt: number): number {
  const full = Math.min(MAX_DELAY_MS, base * 2 ** (attempt - 1));
  return full / 2 + Math.random() * (full / 2);
}

export function waitBeforeRetry(base: number, attempt: number, signal: AbortSignal): Promise<void> {
  const ms = backoffMs(base, attempt);
  if (ms <= 0) return Promise.resolve();
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

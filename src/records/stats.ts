/** Counters of one run: `in` = records that reached the operator. */
export interface Stats {
  in: number;
  out: number;
  dropped: number;
  errors: number;
  retries: number;
}

export function newStats(): Stats {
  return { in: 0, out: 0, dropped: 0, errors: 0, retries: 0 };
}

/** Sums a chain's per-step counters into `into` (the same steps, in order). */
export function addStepStats<T extends Stats>(into: T[], from: readonly T[] | undefined): void {
  if (!from) return;
  from.forEach((step, k) => {
    if (into[k]) addStats(into[k], step);
    else into[k] = { ...step };
  });
}

export function addStats(into: Stats, from: Stats): void {
  into.in += from.in;
  into.out += from.out;
  into.dropped += from.dropped;
  into.errors += from.errors;
  into.retries += from.retries;
}

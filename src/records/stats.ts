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

export function addStats(into: Stats, from: Stats): void {
  into.in += from.in;
  into.out += from.out;
  into.dropped += from.dropped;
  into.errors += from.errors;
  into.retries += from.retries;
}

/**
 * Orders stream ids `ms-seq` numerically (as strings, `9-0` would sort after `10-0`): each
 * part by its length, then by its digits. Redis writes ids without leading zeros. No
 * BigInt: parsing two per comparison took 6% of a consumer's time over a chunk's ids.
 */
export function compareIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  // A bare `ms` is `ms-0`.
  return compareDigits(da < 0 ? a : a.slice(0, da), db < 0 ? b : b.slice(0, db)) || compareDigits(da < 0 ? '0' : a.slice(da + 1), db < 0 ? '0' : b.slice(db + 1));
}

/** Compares two unsigned integers written in digits without leading zeros. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** The milliseconds part of a stream id: when the entry was added, by the server's clock. */
export function msOfId(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** The lowest and the highest of `ids` (at least one): the range a script scans for them. */
export function idRange(ids: string[]): [lo: string, hi: string] {
  let lo = ids[0]!;
  let hi = lo;
  for (const id of ids) {
    if (compareIds(id, lo) < 0) lo = id;
    if (compareIds(hi, id) < 0) hi = id;
  }
  return [lo, hi];
}

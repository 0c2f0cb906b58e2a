/** Orders stream ids `ms-seq` numerically (as strings, `9-0` would sort after `10-0`). */
export function compareIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** The milliseconds part of a stream id: when the entry was added, by the server's clock. */
export function msOfId(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

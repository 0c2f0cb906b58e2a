/** RESP2 replies of the stream commands, as node-redis hands them over untransformed. */
export type RawEntry = [id: string, fields: string[] | null];

/** An entry as read: its id, and the fields as stored (null: deleted while pending). */
export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

/** XREADGROUP / XREAD: `[[key, [[id, [f, v, …]], …]]]`, or null on timeout. */
export function entriesOfRead(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const stream = reply[0] as [string, RawEntry[]] | undefined;
  return (stream?.[1] ?? []).map(([id, fields]) => ({ id, fields }));
}

/** XAUTOCLAIM: `[next cursor, entries, deleted ids]` (the third part since Redis 7.0). */
export function entriesOfClaim(reply: unknown): { cursor: string; entries: StreamEntry[]; deleted: string[] } {
  const [cursor, raw, deleted] = reply as [string, Array<RawEntry | null>, string[] | undefined];
  const entries = raw.filter((entry): entry is RawEntry => entry !== null).map(([id, fields]) => ({ id, fields }));
  return { cursor, entries, deleted: deleted ?? [] };
}

/** The value of `name` in a flat `[name, value, …]` list (fields of an entry, XINFO replies). */
export function fieldOf(flat: unknown[] | null, name: string): unknown {
  if (!flat) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

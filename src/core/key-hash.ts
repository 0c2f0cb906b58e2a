/**
 * The stable hash of `op shard --by key:FIELD`, reproducible in any language:
 *
 *   text  = the value itself when it is a JSON string, else its JSON text as written by
 *           ECMAScript JSON.stringify (numbers in shortest round-trip form: 1.0 → `1`,
 *           1e21 → `1e+21`; objects keep their key order, integer-like keys first)
 *   bytes = UTF-8 of text (a lone surrogate becomes EF BF BD, as TextEncoder does)
 *   hash  = FNV-1a 32-bit: h = 0x811c9dc5; for each byte: h = (h XOR byte) * 0x01000193 mod 2^32
 *   rank  = hash mod world (hash read as an unsigned 32-bit integer)
 *
 * So "42" and 42 hash alike (both are the bytes `42`). Vectors: test/shard/key-hash.test.ts.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Where a record without FIELD (or a record that is not an object) goes. */
export const MISSING_KEY_RANK = 0;

export function keyText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** FNV-1a 32-bit over the UTF-8 bytes of `text`; ASCII is hashed without encoding it. */
export function hashText(text: string): number {
  let h = FNV_OFFSET;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x80) return hashBytes(Buffer.from(text, 'utf8'));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

/** FNV-1a-32 of `bytes[start, end)`: a range, so a caller scanning a large buffer need not cut a view per key. */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let k = start; k < end; k++) h = Math.imul(h ^ (bytes[k] as number), FNV_PRIME);
  return h >>> 0;
}

/** The rank of `record` among `world` by its FIELD, or MISSING_KEY_RANK when it has none. */
export function rankOfKey(record: unknown, field: string, world: number): number {
  if (record === null || typeof record !== 'object' || Array.isArray(record) || !Object.hasOwn(record, field)) return MISSING_KEY_RANK;
  return hashText(keyText((record as Record<string, unknown>)[field])) % world;
}

import { isBlankBytes } from '../io/is-blank-line.js';

/** One journal unit of a chunk: a record, or for op batch a batch, by the lines it spans. */
export interface JournalUnit {
  key: string;
  /** Its record lines (a batch has several); the last one tags its output piece. */
  lines: number[];
}

/**
 * Record keys, in input order: `--id FIELD`'s value, else a hash of the raw line; either
 * with the number of times the same key came before, so duplicate lines stay distinct and
 * a reordered input still finds its records. Computed on the main thread, where input
 * order is known.
 */
export class RecordKeys {
  /** The first key seen in each slot (30 bits of its hash): one Smi-keyed lookup a record. */
  private readonly first = new Map<number, string>();
  /** Exact counts of keys whose slot was taken: repeats, and the rare line sharing a slot. */
  private readonly more = new Map<string, number>();

  constructor(private readonly idField: string | undefined) {}

  /** The units of a chunk of whole lines (with `batches`, the records of each batch). */
  unitsOf(bytes: Uint8Array, firstLine: number, batches: number[] | undefined): JournalUnit[] {
    const records: Array<{ line: number; base: string; slot: number }> = [];
    let line = firstLine;
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = bytes.length;
      const stop = end > start && bytes[end - 1] === 13 ? end - 1 : end;
      if (!isBlankBytes(bytes, start, stop)) {
        const base = this.baseKey(bytes, start, stop);
        records.push({ line, base, slot: this.idField === undefined ? lastSlot : -1 });
      }
      start = end + 1;
      line++;
    }
    if (!batches) return records.map((record) => ({ key: this.count(record.base, record.slot), lines: [record.line] }));
    const units: JournalUnit[] = [];
    let next = 0;
    for (const size of batches) {
      const members = records.slice(next, next + size);
      next += size;
      units.push({ key: this.count(hashText(members.map((member) => member.base).join('\n')), -1), lines: members.map((member) => member.line) });
    }
    return units;
  }

  private baseKey(bytes: Uint8Array, start: number, end: number): string {
    if (this.idField !== undefined) {
      const id = readId(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'), this.idField);
      if (id !== undefined) return id;
    }
    return hashBytes(bytes, start, end);
  }

  private count(base: string, slot: number): string {
    let n = 0;
    if (slot >= 0) {
      const first = this.first.get(slot);
      if (first === undefined) {
        this.first.set(slot, base);
        return base;
      }
      n = this.more.get(base) ?? (first === base ? 1 : 0);
    } else {
      n = this.more.get(base) ?? 0;
    }
    this.more.set(base, n + 1);
    return n === 0 ? base : `${base}#${n}`;
  }
}

/** `--id FIELD` of a line as a JSON text (so 1 and "1" differ); undefined when the line has none. */
function readId(text: string, field: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
    return id === undefined ? undefined : JSON.stringify(id);
  } catch {
    return undefined;
  }
}

/**
 * 64 bits of two multiplicative hashes over the bytes, as 16 hex digits: a million
 * distinct lines collide with odds of about 3 in 100 million, at about a ns per
 * byte (a crypto digest per line cost about 1.5 µs, more than the map bench's whole record).
 */
/** The slot of the last hash: 30 bits of it, a small integer for a fast Map key. */
let lastSlot = 0;

export function hashBytes(bytes: Uint8Array, start: number, end: number): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  let i = start;
  // Four bytes a round: a quarter of the multiplications of a byte-wise hash.
  for (; i + 4 <= end; i += 4) {
    const c = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    a = Math.imul(a ^ c, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  for (; i < end; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b ^ (end - start), 0xc2b2ae35);
  b ^= b >>> 16;
  lastSlot = a & 0x3fffffff;
  return hex8(a) + hex8(b);
}

const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

/** By table: ten times faster than Number#toString(16) and padStart (1M keys, 0.17 s against 1.6 s). */
function hex8(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

function hashText(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return hashBytes(bytes, 0, bytes.length);
}

import { isBlankBytes } from '../io/is-blank-line.js';

/**
 * The journal units of a chunk (a record each, or for op batch a batch), as parallel
 * arrays: a million small objects a run cost more in allocation and GC than the keys.
 */
export interface ChunkUnits {
  keys: string[];
  /** The record lines of the chunk, in order. */
  lines: number[];
  /** op batch: where each unit's lines end in `lines` (exclusive); without it, unit k is line k. */
  ends: number[] | undefined;
}

/** The lines of unit `k`. */
export function unitLines(units: ChunkUnits, k: number): number[] {
  if (!units.ends) return [units.lines[k]!];
  return units.lines.slice(k === 0 ? 0 : units.ends[k - 1], units.ends[k]);
}

/** The line that tags unit `k`'s output piece: its last. */
export function unitLastLine(units: ChunkUnits, k: number): number {
  return units.ends ? units.lines[units.ends[k]! - 1]! : units.lines[k]!;
}

/** How many records unit `k` stands for. */
export function unitSize(units: ChunkUnits, k: number): number {
  return units.ends ? units.ends[k]! - (k === 0 ? 0 : units.ends[k - 1]!) : 1;
}

/**
 * Record keys, in input order: `--id FIELD`'s value, else a hash of the raw line; either
 * with the number of times the same key came before, so duplicate lines stay distinct and
 * a reordered input still finds its records. Computed on the main thread, where input
 * order is known.
 */
export class RecordKeys {
  /** Hash keys: counted by their 64 bits in flat arrays (a million keys: 24 MiB, no GC). */
  private readonly hashes = new HashCounts();
  /** --id keys: counted by their text. */
  private readonly ids = new Map<string, number>();

  constructor(private readonly idField: string | undefined) {}

  /** The units of a chunk of whole lines (with `batches`, the records of each batch). */
  unitsOf(bytes: Uint8Array, firstLine: number, batches: number[] | undefined): ChunkUnits {
    const keys: string[] = [];
    const lines: number[] = [];
    const bases: string[] | undefined = batches ? [] : undefined;
    let line = firstLine;
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = bytes.length;
      const stop = end > start && bytes[end - 1] === 13 ? end - 1 : end;
      if (!isBlankBytes(bytes, start, stop)) {
        lines.push(line);
        const id = this.idField === undefined ? undefined : readId(bytes, start, stop, this.idField);
        if (bases) bases.push(id ?? hashBytes(bytes, start, stop));
        else if (id !== undefined) keys.push(this.countId(id));
        else keys.push(this.countHash(bytes, start, stop));
      }
      start = end + 1;
      line++;
    }
    if (!batches || !bases) return { keys, lines, ends: undefined };
    const ends: number[] = [];
    let next = 0;
    for (const size of batches) {
      const text = bases.slice(next, next + size).join('\n');
      next += size;
      ends.push(next);
      const joined = Buffer.from(text, 'utf8');
      keys.push(this.countHash(joined, 0, joined.length));
    }
    return { keys, lines, ends };
  }

  private countHash(bytes: Uint8Array, start: number, end: number): string {
    const base = hashBytes(bytes, start, end);
    const n = this.hashes.add(lastA, lastB);
    return n === 0 ? base : `${base}#${n}`;
  }

  private countId(base: string): string {
    const n = this.ids.get(base) ?? 0;
    this.ids.set(base, n + 1);
    return n === 0 ? base : `${base}#${n}`;
  }
}

/** `--id FIELD` of a line as a JSON text (so 1 and "1" differ); undefined when the line has none. */
function readId(bytes: Uint8Array, start: number, end: number, field: string): string | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
    const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
    return id === undefined ? undefined : JSON.stringify(id);
  } catch {
    return undefined;
  }
}

/**
 * How many times each 64-bit hash came before: open addressing over typed arrays, grown
 * at half full. A Map of key strings held about 100 MiB more for a million records and
 * its growth and GC showed in profiles.
 */
class HashCounts {
  private a = new Int32Array(1 << 12);
  private b = new Int32Array(1 << 12);
  private n = new Uint32Array(1 << 12);
  private size = 0;

  /** Counts (a, b) once more; returns how many times it came before. */
  add(a: number, b: number): number {
    const mask = this.n.length - 1;
    let i = a & mask;
    while (this.n[i] !== 0) {
      if (this.a[i] === a && this.b[i] === b) return this.n[i]!++;
      i = (i + 1) & mask;
    }
    this.a[i] = a;
    this.b[i] = b;
    this.n[i] = 1;
    if (++this.size * 2 > this.n.length) this.grow();
    return 0;
  }

  private grow(): void {
    const { a, b, n } = this;
    this.a = new Int32Array(a.length * 2);
    this.b = new Int32Array(a.length * 2);
    this.n = new Uint32Array(a.length * 2);
    const mask = this.n.length - 1;
    for (let k = 0; k < n.length; k++) {
      if (n[k] === 0) continue;
      let i = a[k]! & mask;
      while (this.n[i] !== 0) i = (i + 1) & mask;
      this.a[i] = a[k]!;
      this.b[i] = b[k]!;
      this.n[i] = n[k]!;
    }
  }
}

/** The two halves of the last hash, for HashCounts. */
let lastA = 0;
let lastB = 0;

/**
 * 64 bits of two multiplicative hashes over the bytes, as 16 hex digits: a million
 * distinct lines collide with odds of about 3 in 100 million, at about a ns per
 * byte (a crypto digest per line cost about 1.5 µs, more than the map bench's whole record).
 */
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
  lastA = a;
  lastB = b;
  return hex8(a) + hex8(b);
}

const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

/** By table: ten times faster than Number#toString(16) and padStart (1M keys, 0.17 s against 1.6 s). */
function hex8(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

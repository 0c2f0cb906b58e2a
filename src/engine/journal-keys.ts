import { forEachRecordLine, hashLine, hashLines, type LineHashes } from '../records/line-hashes.js';

/**
 * The journal units of a chunk (a record each, or for op batch a batch), as parallel
 * arrays: a million small objects (or key strings) a run cost more in allocation and GC
 * than the keys. A key's text is made only when something needs it (unitKey).
 */
export interface ChunkUnits {
  count: number;
  /** Line-hash keys: unit k's 64 bits are hashes[2k] and hashes[2k + 1]; seen[k] counts the equal keys before it. */
  hashes: Int32Array | undefined;
  seen: Uint32Array | undefined;
  /** --id keys, and op batch's: each key's text. */
  named: string[] | undefined;
  /** The record lines of the chunk, in order. */
  lines: number[];
  /** op batch: where each unit's lines end in `lines` (exclusive); without it, unit k is line k. */
  ends: number[] | undefined;
}

/** Unit `k`'s key as the journal names it: 16 hex digits (or the --id value), then `#n` for the nth repeat. */
export function unitKey(units: ChunkUnits, k: number): string {
  if (units.named) return units.named[k]!;
  const n = units.seen![k]!;
  const base = hex8(units.hashes![2 * k]!) + hex8(units.hashes![2 * k + 1]!);
  return n === 0 ? base : `${base}#${n}`;
}

/**
 * Writes unit `k`'s line-hash key, as a JSON string, into `target` at `at`; returns the end:
 * at most 30 bytes. Written byte by byte: hex text made per record and encoded again cost
 * more than the hashing itself.
 */
export function writeHashKey(units: ChunkUnits, k: number, target: Uint8Array, at: number): number {
  target[at++] = QUOTE;
  at = writeHex8(units.hashes![2 * k]!, target, at);
  at = writeHex8(units.hashes![2 * k + 1]!, target, at);
  const n = units.seen![k]!;
  if (n > 0) {
    target[at++] = HASH_SIGN;
    const digits = String(n);
    for (let d = 0; d < digits.length; d++) target[at++] = digits.charCodeAt(d);
  }
  target[at++] = QUOTE;
  return at;
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

  /** Whether a chunk's units are its lines keyed by their hashes (hashLines), not --id values or batches. */
  byLineHash(batches: number[] | undefined): boolean {
    return this.idField === undefined && !batches;
  }

  /** The units of a chunk of whole lines (with `batches`, the records of each batch). */
  unitsOf(bytes: Uint8Array, firstLine: number, batches: number[] | undefined): ChunkUnits {
    if (this.byLineHash(batches)) return this.countHashed(hashLines(bytes, firstLine));
    const named: string[] = [];
    const lines: number[] = [];
    const bases: string[] | undefined = batches ? [] : undefined;
    forEachRecordLine(bytes, firstLine, (start, stop, line) => {
      lines.push(line);
      const id = this.idField === undefined ? undefined : readId(bytes, start, stop, this.idField);
      if (bases) bases.push(id ?? hashBytes(bytes, start, stop));
      else if (id !== undefined) named.push(this.countId(id));
      else named.push(this.countHash(bytes, start, stop));
    });
    if (!batches || !bases) return { count: named.length, hashes: undefined, seen: undefined, named, lines, ends: undefined };
    const ends: number[] = [];
    let next = 0;
    for (const size of batches) {
      const text = bases.slice(next, next + size).join('\n');
      next += size;
      ends.push(next);
      const joined = Buffer.from(text, 'utf8');
      named.push(this.countHash(joined, 0, joined.length));
    }
    return { count: named.length, hashes: undefined, seen: undefined, named, lines, ends };
  }

  /** Units of one record each, from the hashes of their lines (hashLines, perhaps made in a worker): typed arrays, no strings. */
  countHashed(hashed: LineHashes): ChunkUnits {
    const { count, hashes } = hashed;
    const seen = new Uint32Array(count);
    for (let k = 0; k < count; k++) seen[k] = this.hashes.add(hashes[2 * k]!, hashes[2 * k + 1]!);
    return { count, hashes, seen, named: undefined, lines: hashed.lines, ends: undefined };
  }

  private countHash(bytes: Uint8Array, start: number, end: number): string {
    const base = hashBytes(bytes, start, end);
    const n = this.hashes.add(scratch[0]!, scratch[1]!);
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
 * How many earlier records share each record's fingerprint (32 bits of its 64-bit hash):
 * open addressing over one Int32Array of fingerprints, grown at half full, with the rare
 * repeats counted in a Map. A key is its full hash plus that count, so an over-count (two
 * different lines, one fingerprint: about a hundred per million) changes nothing but a
 * `#n`, computed the same way again on resume. One 4-byte slot per record keeps the table
 * at 8 MiB for a million: a third of the time of 12-byte slots, most of it cache misses.
 */
class HashCounts {
  private slots = new Int32Array(1 << 12);
  private mask = (1 << 12) - 1;
  private size = 0;
  private readonly repeats = new Map<number, number>();

  /** Counts (a, b) once more; returns how many times its fingerprint came before. */
  add(a: number, b: number): number {
    const fingerprint = a ^ Math.imul(b, 0x9e3779b1) || 1;
    const { slots, mask } = this;
    let i = (fingerprint >>> 7) & mask;
    for (;;) {
      const slot = slots[i]!;
      if (slot === 0) break;
      if (slot === fingerprint) {
        const n = (this.repeats.get(fingerprint) ?? 0) + 1;
        this.repeats.set(fingerprint, n);
        return n;
      }
      i = (i + 1) & mask;
    }
    slots[i] = fingerprint;
    if (++this.size * 2 > mask) this.grow();
    return 0;
  }

  private grow(): void {
    const old = this.slots;
    this.mask = this.mask * 2 + 1;
    const slots = new Int32Array(this.mask + 1);
    const mask = this.mask;
    for (let k = 0; k < old.length; k++) {
      const fingerprint = old[k]!;
      if (fingerprint === 0) continue;
      let i = (fingerprint >>> 7) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = fingerprint;
    }
    this.slots = slots;
  }
}

/** The last hash made for a key's text. */
const scratch = new Int32Array(2);

/** A line's hash (hashLine) as 16 hex digits. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): string {
  hashLine(bytes, start, end, scratch, 0);
  return hex8(scratch[0]!) + hex8(scratch[1]!);
}

const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

const HEX_CODES = Uint8Array.from({ length: 512 }, (_, k) => HEX[k >> 1]!.charCodeAt(k & 1));
const QUOTE = 0x22;
const HASH_SIGN = 0x23;

function writeHex8(n: number, target: Uint8Array, at: number): number {
  for (let shift = 24; shift >= 0; shift -= 8) {
    const byte = (n >>> shift) & 255;
    target[at++] = HEX_CODES[2 * byte]!;
    target[at++] = HEX_CODES[2 * byte + 1]!;
  }
  return at;
}

/** By table: ten times faster than Number#toString(16) and padStart (1M keys, 0.17 s against 1.6 s). */
function hex8(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

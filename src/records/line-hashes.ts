import { isBlankBytes } from '../io/is-blank-line.js';

/**
 * The 64-bit hash of each record line of a chunk, with its line number: the journal's
 * record keys (engine/journal-keys.ts), made where the chunk runs, so with -w N they are
 * made in the workers.
 */
export interface LineHashes {
  count: number;
  /** Line k's hash in hashes[2k] and hashes[2k + 1]. */
  hashes: Int32Array;
  lines: number[];
}

/** The hashes of the non-blank lines of a chunk of whole lines (a CR before a newline is not hashed). */
export function hashLines(bytes: Uint8Array, firstLine: number): LineHashes {
  let hashes = new Int32Array(256);
  const lines: number[] = [];
  let count = 0;
  forEachRecordLine(bytes, firstLine, (start, stop, line) => {
    if (2 * count === hashes.length) {
      const grown = new Int32Array(hashes.length * 2);
      grown.set(hashes);
      hashes = grown;
    }
    hashLine(bytes, start, stop, hashes, 2 * count);
    lines.push(line);
    count++;
  });
  return { count, hashes, lines };
}

/** Calls `visit` with the bytes [start, stop) and the line number of each non-blank line of a chunk of whole lines (a CR before its newline left out). */
export function forEachRecordLine(bytes: Uint8Array, firstLine: number, visit: (start: number, stop: number, line: number) => void): void {
  let line = firstLine;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const stop = end > start && bytes[end - 1] === 13 ? end - 1 : end;
    if (!isBlankBytes(bytes, start, stop)) visit(start, stop, line);
    start = end + 1;
    line++;
  }
}

/**
 * 64 bits of multiplicative hashes over bytes [start, end), into `into[at]` and
 * `into[at + 1]`: a million distinct lines collide with odds of about 3 in 100 million,
 * at well under a ns per byte (a crypto digest per line cost about 1.5 µs, more than the
 * map bench's whole record). Eight bytes a round in two independent lanes of two hashes
 * each: the multiplications of one lane wait on each other, the lanes do not.
 */
export function hashLine(bytes: Uint8Array, start: number, end: number, into: Int32Array, at: number): void {
  let a0 = 0x811c9dc5;
  let b0 = 0x9747b28c;
  let a1 = 0x1b873593;
  let b1 = 0xcc9e2d51;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const c = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    const d = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    a0 = Math.imul(a0 ^ c, 0x01000193);
    a0 ^= a0 >>> 15;
    b0 = Math.imul(b0 ^ c, 0x5bd1e995);
    b0 ^= b0 >>> 13;
    a1 = Math.imul(a1 ^ d, 0x01000193);
    a1 ^= a1 >>> 15;
    b1 = Math.imul(b1 ^ d, 0x5bd1e995);
    b1 ^= b1 >>> 13;
  }
  let a = a0 ^ Math.imul(a1, 0x85ebca6b);
  let b = b0 ^ Math.imul(b1, 0xc2b2ae35);
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
  into[at] = a;
  into[at + 1] = b;
}

import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { markOutOfRange } from './out-of-range.js';

/** Lines decoded from one byte chunk; `bad` maps an index in `lines` to why it cannot be used. */
export interface DecodedLines {
  lines: string[];
  bad: Map<number, InputError> | undefined;
}

/**
 * Decodes `buf` (whole lines, ending in `\n` unless it is the last line of its source) into
 * strings. One validation and one decode for the chunk: the per-line path runs only when
 * the chunk holds invalid UTF-8, which `toString` would otherwise silently replace. Lines
 * with a number beyond the double range are bad too (out-of-range.ts); `suspects`, when
 * given, is `findSuspects(buf)` made elsewhere.
 */
export function decodeLines(buf: Buffer, suspects?: readonly number[]): DecodedLines {
  if (isUtf8(buf)) {
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { lines, bad: markOutOfRange(buf, lines, undefined, suspects) };
  }
  const lines: string[] = [];
  const bad = new Map<number, InputError>();
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    const bytes = buf.subarray(start, end);
    if (!isUtf8(bytes)) bad.set(lines.length, invalidUtf8(bytes));
    lines.push(bytes.toString('utf8'));
    start = end + 1;
  }
  return { lines, bad: markOutOfRange(buf, lines, bad, suspects) };
}

/** The failure of a line known to hold invalid UTF-8, naming the first bad byte. */
export function invalidUtf8(bytes: Buffer): InputError {
  return new InputError(`invalid UTF-8 at byte ${firstInvalidByte(bytes)}`, 'decode');
}

/** 1-based byte column of the first byte that breaks UTF-8 (only called on lines known to be bad). */
export function firstInvalidByte(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i + 1;
    if (need > 0 && !isUtf8(bytes.subarray(i, i + need + 1))) return i + 1;
    i += need + 1;
  }
  return bytes.length;
}

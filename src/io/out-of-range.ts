import { InputError } from '../core/errors.js';
import { BLOCK_BYTES, findSuspects } from './scan-numbers.js';

/**
 * Marks the lines that hold a number beyond the double range as bad input, like invalid
 * JSON: JSON.parse would read `1e400` as Infinity, and the record would be written with
 * null in its place. Only the lines the byte scan flags (scan-numbers.ts) are looked at.
 * `lines` are `buf` cut at each `\n`; returns `bad`, made when first needed. `suspects`:
 * findSuspects(buf) when the caller has it (an offset below 0 is a block that began
 * before `buf` and reaches into its first line).
 */
export function markOutOfRange(buf: Uint8Array, lines: readonly string[], bad: Map<number, InputError> | undefined, suspects: readonly number[] = findSuspects(buf)): Map<number, InputError> | undefined {
  // The line at `line` starts at byte `start`.
  let line = 0;
  let start = 0;
  for (const at of suspects) {
    const last = Math.min(buf.length, at + BLOCK_BYTES) - 1;
    for (let end = buf.indexOf(10, start); end >= 0 && end < at; end = buf.indexOf(10, start)) {
      start = end + 1;
      line++;
    }
    // Every line the flagged block touches.
    for (;;) {
      const text = lines[line];
      if (text === undefined) break;
      const why = bad?.has(line) ? undefined : outOfRange(text);
      if (why) {
        bad ??= new Map();
        bad.set(line, why);
      }
      const end = buf.indexOf(10, start);
      if (end < 0 || end >= last) break;
      start = end + 1;
      line++;
    }
  }
  return bad;
}

/** The error for one line when it holds a number beyond the double range. */
export function lineOutOfRange(bytes: Uint8Array, text: string): InputError | undefined {
  return findSuspects(bytes).length === 0 ? undefined : outOfRange(text);
}

function outOfRange(text: string): InputError | undefined {
  const at = overflowAt(text);
  // "at position N", as JSON.parse says it: the report puts a caret there.
  return at === undefined ? undefined : new InputError(`number out of range at position ${at}`, 'parse');
}

/** A JSON number literal (the grammar of RFC 8259, section 6). */
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** Where the first number literal outside strings that is beyond the double range starts in `text`. */
export function overflowAt(text: string): number | undefined {
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === QUOTE) {
      for (k++; k < text.length; k++) {
        const d = text.charCodeAt(k);
        if (d === BACKSLASH) k++;
        else if (d === QUOTE) break;
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      NUMBER.lastIndex = k;
      const literal = NUMBER.exec(text)?.[0];
      if (literal === undefined) continue;
      if (!Number.isFinite(Number(literal))) return k;
      k += literal.length - 1;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

import { hashBytes, hashText } from '../core/key-hash.js';
import { KeyRouter, canonical, singleText } from './route-key.js';

/** The owner of a blank line: no worker (it keeps its line number, and is no record). */
export const BLANK = 0xffff;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * KeyRouter on bytes: the worker of the line `buf[start, end)`, found without decoding it
 * when every key field is a top-level name. The common case, a string value without
 * escapes, is hashed from its bytes as they are (they are its UTF-8); anything else is
 * decoded, only as far as the value, and hashed as KeyRouter hashes it.
 */
export class ByteKeyRouter {
  private readonly names: Buffer[];
  private readonly text: KeyRouter;
  private readonly single: boolean;
  /** A key path (a.b) needs the parsed record: decode the line and let KeyRouter do it. */
  private readonly decodeAll: boolean;

  constructor(
    fields: string[],
    private readonly workers: number,
  ) {
    this.names = fields.map((field) => Buffer.from(field, 'utf8'));
    this.text = new KeyRouter(fields, workers);
    this.single = fields.length === 1;
    this.decodeAll = fields.some((field) => field.includes('.'));
  }

  workerOf(buf: Buffer, start: number, end: number): number {
    if (this.decodeAll) return this.text.workerOf(buf.toString('utf8', start, end));
    let text = '';
    for (let k = 0; k < this.names.length; k++) {
      const found = scanBytes(buf, start, end, this.names[k]!);
      if (found === ESCAPED) return this.text.workerOf(buf.toString('utf8', start, end));
      if (found === UNREADABLE) return 0;
      if (found === MISSING) {
        if (this.single) return hashText('null') % this.workers;
        text += (k ? ',' : '') + 'null';
        continue;
      }
      const s = valueStart;
      const e = valueEnd;
      if (this.single) {
        // A string without escapes: its bytes between the quotes are the UTF-8 that op shard hashes.
        if (buf[s] === QUOTE && !hasByte(buf, BACKSLASH, s, e)) return hashBytes(buf, s + 1, e - 1) % this.workers;
        return hashText(singleText(buf.toString('utf8', s, e))) % this.workers;
      }
      text += (k ? ',' : '') + canonical(buf.toString('utf8', s, e));
    }
    return hashText(text) % this.workers;
  }
}

/** Key names are short: a loop beats Buffer.compare's native call (~0.2 s per million lines). */
function sameBytes(buf: Buffer, at: number, name: Buffer): boolean {
  for (let k = 0; k < name.length; k++) if (buf[at + k] !== name[k]) return false;
  return true;
}

function hasByte(buf: Buffer, byte: number, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (buf[k] === byte) return true;
  return false;
}

const MISSING = 0;
const UNREADABLE = 1;
const ESCAPED = 2;
const FOUND = 3;
/** The value range of the last FOUND field: module state, not a pair per line (an allocation a line showed in profiles). */
let valueStart = 0;
let valueEnd = 0;

/** FOUND (the value's range in valueStart, valueEnd) for top-level field `name`, or MISSING, UNREADABLE, or ESCAPED (a key with escapes: scan the text instead). */
function scanBytes(buf: Buffer, start: number, end: number, name: Buffer): number {
  let at = skipSpace(buf, start, end);
  if (buf[at] === 0xef && buf[at + 1] === 0xbb && buf[at + 2] === 0xbf) at = skipSpace(buf, at + 3, end);
  if (buf[at] !== 0x7b) return MISSING;
  at = skipSpace(buf, at + 1, end);
  if (buf[at] === 0x7d) return MISSING;
  while (at < end) {
    if (buf[at] !== QUOTE) return UNREADABLE;
    const keyEnd = skipString(buf, at, end);
    if (keyEnd < 0) return UNREADABLE;
    const matches = keyEnd - at - 2 === name.length && sameBytes(buf, at + 1, name);
    if (!matches && hasByte(buf, BACKSLASH, at, keyEnd)) return ESCAPED;
    at = skipSpace(buf, keyEnd, end);
    if (buf[at] !== 0x3a) return UNREADABLE;
    at = skipSpace(buf, at + 1, end);
    const after = skipValue(buf, at, end);
    if (after < 0) return UNREADABLE;
    if (matches) {
      valueStart = at;
      valueEnd = after;
      return FOUND;
    }
    at = skipSpace(buf, after, end);
    const c = buf[at];
    if (c === 0x7d) return MISSING;
    if (c !== 0x2c) return UNREADABLE;
    at = skipSpace(buf, at + 1, end);
  }
  return UNREADABLE;
}

function skipSpace(buf: Buffer, at: number, end: number): number {
  while (at < end) {
    const c = buf[at];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return at;
    at++;
  }
  return at;
}

function skipString(buf: Buffer, at: number, end: number): number {
  for (let k = at + 1; k < end; k++) {
    const c = buf[k];
    if (c === BACKSLASH) k++;
    else if (c === QUOTE) return k + 1;
  }
  return -1;
}

function skipValue(buf: Buffer, at: number, end: number): number {
  const c = buf[at];
  if (c === QUOTE) return skipString(buf, at, end);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let k = at; k < end; k++) {
      const d = buf[k];
      if (d === QUOTE) {
        const after = skipString(buf, k, end);
        if (after < 0) return -1;
        k = after - 1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return k + 1;
      }
    }
    return -1;
  }
  let k = at;
  while (k < end) {
    const d = buf[k];
    if (d === 0x2c || d === 0x7d || d === 0x20 || d === 0x09 || d === 0x0d || d === 0x5d) break;
    k++;
  }
  return k > at ? k : -1;
}

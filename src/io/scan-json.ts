/**
 * JSON checked on its bytes, without building a value: a child's reply line is checked this
 * way and then written as it came. JSON.parse on the main thread costs 2.05 s per 1,000,000
 * 160-byte records here, against 0.05 s to count their newlines (bench/RESULTS.md); a
 * child's output must still be JSON, so it is scanned (RFC 8259's grammar) instead. UTF-8
 * is checked apart, once per read (buffer.isUtf8).
 */

/** Deeper than this, the scan hands over to JSON.parse rather than recurse further. */
const MAX_DEPTH = 512;
/** valueEnd's answers besides an offset. */
const INVALID = -1;
const TOO_DEEP = -2;

/** True when `b[start, end)` is exactly one JSON value, with optional whitespace around it. */
export function isJsonValue(b: Uint8Array, start: number, end: number): boolean {
  const from = skipSpace(b, start, end);
  if (from === end) return false;
  const after = valueEnd(b, from, end, 0);
  if (after === TOO_DEEP) return parses(b, start, end);
  return after >= 0 && skipSpace(b, after, end) === end;
}

/**
 * When `b[start, end)` is one JSON array, pushes the [start, end) of each element onto
 * `spans` and returns 'array'; 'other' for any other JSON value; 'invalid' when it is not
 * JSON; 'deep' (spans untouched) for an array nested past MAX_DEPTH, left to JSON.parse.
 */
export function scanArray(b: Uint8Array, start: number, end: number, spans: number[]): 'array' | 'other' | 'invalid' | 'deep' {
  let i = skipSpace(b, start, end);
  if (i === end) return 'invalid';
  if (b[i] !== 0x5b) return isJsonValue(b, i, end) ? 'other' : 'invalid';
  const first = spans.length;
  i = skipSpace(b, i + 1, end);
  if (b[i] === 0x5d) return skipSpace(b, i + 1, end) === end ? 'array' : 'invalid';
  for (;;) {
    const after = valueEnd(b, i, end, 1);
    if (after < 0) {
      spans.length = first;
      return after === TOO_DEEP ? 'deep' : 'invalid';
    }
    spans.push(i, after);
    i = skipSpace(b, after, end);
    if (b[i] === 0x2c) {
      i = skipSpace(b, i + 1, end);
      continue;
    }
    if (b[i] === 0x5d && skipSpace(b, i + 1, end) === end) return 'array';
    spans.length = first;
    return 'invalid';
  }
}

function skipSpace(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/** Offset just past the value that starts at `b[i]`, INVALID, or TOO_DEEP. */
function valueEnd(b: Uint8Array, i: number, end: number, depth: number): number {
  if (i >= end) return INVALID;
  switch (b[i]) {
    case 0x22:
      return stringEnd(b, i + 1, end);
    case 0x7b:
      return depth >= MAX_DEPTH ? TOO_DEEP : objectEnd(b, i + 1, end, depth + 1);
    case 0x5b:
      return depth >= MAX_DEPTH ? TOO_DEEP : arrayEnd(b, i + 1, end, depth + 1);
    case 0x74:
      return word(b, i, end, TRUE);
    case 0x66:
      return word(b, i, end, FALSE);
    case 0x6e:
      return word(b, i, end, NULL);
    default:
      return numberEnd(b, i, end);
  }
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function word(b: Uint8Array, i: number, end: number, letters: number[]): number {
  if (i + letters.length > end) return INVALID;
  for (let k = 1; k < letters.length; k++) if (b[i + k] !== letters[k]) return INVALID;
  return i + letters.length;
}

/** `i` is just past the opening quote. */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return INVALID;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    const e = b[i + 1];
    if (e === 0x75) {
      if (i + 6 > end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) return INVALID;
      i += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else {
      return INVALID;
    }
  }
  return INVALID;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function numberEnd(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return INVALID;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i]) && b[i] !== 0x30) while (i < end && isDigit(b[i])) i++;
  else return INVALID;
  if (i < end && b[i] === 0x2e) {
    i++;
    if (!isDigit(b[i]) || i >= end) return INVALID;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (i >= end || !isDigit(b[i])) return INVALID;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

/** `i` is just past `{`. */
function objectEnd(b: Uint8Array, i: number, end: number, depth: number): number {
  i = skipSpace(b, i, end);
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    if (b[i] !== 0x22) return INVALID;
    i = stringEnd(b, i + 1, end);
    if (i < 0) return INVALID;
    i = skipSpace(b, i, end);
    if (b[i] !== 0x3a) return INVALID;
    i = skipSpace(b, i + 1, end);
    i = valueEnd(b, i, end, depth);
    if (i < 0) return i;
    i = skipSpace(b, i, end);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return INVALID;
    i = skipSpace(b, i + 1, end);
  }
}

/** `i` is just past `[`. */
function arrayEnd(b: Uint8Array, i: number, end: number, depth: number): number {
  i = skipSpace(b, i, end);
  if (b[i] === 0x5d) return i + 1;
  for (;;) {
    i = valueEnd(b, i, end, depth);
    if (i < 0) return i;
    i = skipSpace(b, i, end);
    if (b[i] === 0x5d) return i + 1;
    if (b[i] !== 0x2c) return INVALID;
    i = skipSpace(b, i + 1, end);
  }
}

function parses(b: Uint8Array, start: number, end: number): boolean {
  try {
    JSON.parse(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

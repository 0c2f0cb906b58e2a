import { OpError } from '../core/errors.js';

enum Mode {
  /** Before the first value: a `[` makes the input one array, anything else a run of values. */
  Start,
  /** Inside the top-level array, expecting a value (or `]` right after `[`). */
  ArrayValue,
  /** Inside the top-level array, after a value: `,` or `]`. */
  ArrayNext,
  /** A run of concatenated values, between two of them. */
  Values,
  /** After the top-level array's `]`: only whitespace. */
  Done,
}

/**
 * `--input-format json`: turns a top-level array, or a run of concatenated JSON values,
 * into NDJSON lines, one value per line, without parsing the values (the chunk function
 * parses them, as it parses any line). Each value is written on the line where it starts,
 * padded with blank lines, so an error's place is its line in the input; a second value on
 * the same input line takes the next line. Line breaks inside a value are whitespace, so
 * they become spaces. A break in the structure (a missing comma, a stray `]`, bytes after
 * the array) stops the run at its line, after every value before it was handed on.
 */
export async function* jsonToLines(stream: AsyncIterable<Buffer>, source: string): AsyncGenerator<Buffer> {
  let mode = Mode.Start;
  let line = 1;
  /** The line the next output line stands for. */
  let outLine = 1;
  // The value being read: its parts, depth, string state, and its first line.
  let parts: Buffer[] = [];
  let inValue = false;
  let scalar = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let valueLine = 1;
  let first = true;
  let values = 0;
  for await (const buf of stream) {
    const out: Buffer[] = [];
    let valueStart = inValue ? 0 : -1;
    const fail = (what: string): never => {
      throw new OpError(`invalid JSON: ${what}`, { place: { source, line } });
    };
    const endValue = (end: number): void => {
      parts.push(buf.subarray(valueStart, end));
      const text = Buffer.concat(parts);
      for (let k = 0; k < text.length; k++) if (text[k] === 10 || text[k] === 13) text[k] = 32;
      if (valueLine > outLine) out.push(Buffer.alloc(valueLine - outLine, 10));
      outLine = Math.max(outLine, valueLine) + 1;
      out.push(text, NEWLINE);
      values++;
      parts = [];
      inValue = false;
      valueStart = -1;
      mode = mode === Mode.ArrayValue ? Mode.ArrayNext : mode;
    };
    let k = first && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    first = false;
    try {
      for (; k < buf.length; k++) {
        const b = buf[k]!;
        if (inValue) {
          if (inString) {
            if (escaped) escaped = false;
            else if (b === 0x5c) escaped = true;
            else if (b === 0x22) {
              inString = false;
              if (depth === 0) endValue(k + 1);
            } else if (b === 10) line++;
            continue;
          }
          if (scalar) {
            if (!isDelimiter(b)) continue;
            endValue(k);
            k--; // the delimiter is looked at again, outside the value
            continue;
          }
          if (b === 0x22) inString = true;
          else if (b === 0x7b || b === 0x5b) depth++;
          else if (b === 0x7d || b === 0x5d) {
            if (--depth === 0) endValue(k + 1);
          } else if (b === 10) line++;
          continue;
        }
        if (b === 10) {
          line++;
          continue;
        }
        if (b === 0x20 || b === 0x09 || b === 0x0d) continue;
        if (mode === Mode.Start && b === 0x5b) {
          mode = Mode.ArrayValue;
          continue;
        }
        if ((mode as Mode) === Mode.ArrayNext) {
          if (b === 0x2c) mode = Mode.ArrayValue;
          else if (b === 0x5d) mode = Mode.Done;
          else fail(`expected , or ] after a value, got ${show(b)}`);
          continue;
        }
        if (mode === Mode.ArrayValue && b === 0x5d) {
          // `[]`, or a trailing comma (`[1,]`), which JSON does not allow.
          if (values > 0) fail('expected a value after ,');
          mode = Mode.Done;
          continue;
        }
        if (mode === Mode.Done) fail(`unexpected ${show(b)} after the top-level array`);
        if (b === 0x2c || b === 0x5d || b === 0x7d || b === 0x3a) fail(`unexpected ${show(b)}`);
        if (mode === Mode.Start) mode = Mode.Values;
        inValue = true;
        valueStart = k;
        valueLine = line;
        scalar = b !== 0x7b && b !== 0x5b && b !== 0x22;
        depth = b === 0x7b || b === 0x5b ? 1 : 0;
        inString = b === 0x22;
        escaped = false;
      }
    } catch (error) {
      // Every value before the break is a record like any other.
      if (out.length > 0) yield Buffer.concat(out);
      throw error;
    }
    if (inValue) parts.push(buf.subarray(valueStart));
    if (out.length > 0) yield Buffer.concat(out);
  }
  if (inValue && scalar) {
    const buf = Buffer.concat(parts);
    parts = [];
    for (let k = 0; k < buf.length; k++) if (buf[k] === 10 || buf[k] === 13) buf[k] = 32;
    if (valueLine > outLine) yield Buffer.alloc(valueLine - outLine, 10);
    yield Buffer.concat([buf, NEWLINE]);
    inValue = false;
  }
  if (inValue) throw new OpError('invalid JSON: the input ends inside a value', { place: { source, line } });
  if ((mode as Mode) === Mode.ArrayValue || (mode as Mode) === Mode.ArrayNext) throw new OpError('invalid JSON: the input ends inside the top-level array', { place: { source, line } });
}

const NEWLINE = Buffer.from('\n');

/** Where a number or literal ends. */
function isDelimiter(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x2c || b === 0x5d || b === 0x7d || b === 0x5b || b === 0x7b || b === 0x22;
}

function show(b: number): string {
  return b >= 0x21 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

import { isUtf8 } from 'node:buffer';
import { InputError, OpError, RecordError, type Place } from '../core/errors.js';
import { decodeLines } from '../io/decode-lines.js';
import { lineOutOfRange } from '../io/out-of-range.js';
import { compareJson } from './compare-json.js';

export interface KeySpec {
  field: string;
  /** Read strings holding a decimal number as numbers (and refuse other values). */
  numeric: boolean;
  /** Inputs are sorted in descending order. */
  reverse: boolean;
}

/** A JSON value: the FIELD of one record. */
export type Key = unknown;

/** A decimal number in a string, as `sort -n` would read it; `0x10` and `` are not numbers. */
const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The merge key of one record line: the value of its FIELD, compared as jq orders values
 * (compare-json.ts), so `_i` 6 comes before 10 without any flag. With --numeric a string
 * holding a decimal number is that number, and any other non-number is an error. A line
 * that is not UTF-8 is refused as op map and op shard refuse it: decoding would turn each
 * bad byte into U+FFFD and make different keys equal.
 */
export function keyOf(line: Buffer, spec: KeySpec, place: Place): Key {
  if (!isUtf8(line)) {
    const why = decodeLines(line).bad?.get(0) ?? new InputError('invalid UTF-8', 'decode');
    throw new RecordError(why, { place, stage: 'decode', attempts: 1, excerpt: line.toString('utf8') });
  }
  const text = line.toString('utf8');
  const outOfRange = lineOutOfRange(line, text);
  if (outOfRange) throw new RecordError(outOfRange, { place, stage: 'parse', attempts: 1, excerpt: text });
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    throw new RecordError(error, { place, stage: 'parse', attempts: 1, excerpt: text });
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record) || !Object.hasOwn(record, spec.field)) {
    throw new OpError(`no field ${JSON.stringify(spec.field)} to merge on`, { place, excerpt: text });
  }
  const value = (record as Record<string, unknown>)[spec.field];
  if (!spec.numeric || typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  throw new OpError(`${spec.field} is ${JSON.stringify(value)}, not a number (--numeric)`, { place, excerpt: text });
}

export function compareKeys(a: Key, b: Key): number {
  return compareJson(a, b);
}

/** A key as the user wrote it, for messages. */
export function showKey(key: Key): string {
  return JSON.stringify(key) ?? String(key);
}

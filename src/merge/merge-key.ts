import { OpError, RecordError, type Place } from '../core/errors.js';

export interface KeySpec {
  field: string;
  /** Compare as numbers: JSON numbers, or strings holding a decimal number. */
  numeric: boolean;
  /** Inputs are sorted in descending order. */
  reverse: boolean;
}

export type Key = string | number;

/** A decimal number in a string, as `sort -n` would read it; `0x10` and `` are not numbers. */
const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The merge key of one record line. Without --numeric a string is its own key and any
 * other value its JSON text; keys compare by UTF-16 code units (JavaScript `<`), which is
 * byte order (`LC_ALL=C sort`) for all but characters above U+FFFF.
 */
export function keyOf(line: Buffer, spec: KeySpec, place: Place): Key {
  const text = line.toString('utf8');
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
  if (!spec.numeric) return typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  throw new OpError(`${spec.field} is ${JSON.stringify(value)}, not a number (--numeric)`, { place, excerpt: text });
}

export function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

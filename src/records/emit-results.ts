import { OutputError, type Kind } from '../core/errors.js';
import type { Stats } from './stats.js';
import { stringifyDeep } from './stringify-deep.js';

/** Turns a handler result into output lines; `text` is the input line as read, if any. */
export type Emitter = (result: unknown, record: unknown, text: string | undefined, stats: Stats) => string | Promise<string>;

/**
 * The emitter of a command, chosen once per run so the per-record call is monomorphic.
 * A kept record is written byte for byte as read instead of being serialised again.
 */
export function emitterFor(kind: Kind): Emitter {
  switch (kind) {
    case 'map':
      return emitMapped;
    case 'filter':
      return emitKept;
    case 'slice':
      return (result, _record, _text, stats) => emitMany(result, stats, 1);
    case 'batch':
      // The records of a batch that yields nothing are all dropped.
      return (result, record, _text, stats) => emitMany(result, stats, (record as unknown[]).length);
  }
}

function emitMapped(result: unknown, _record: unknown, _text: string | undefined, stats: Stats): string {
  if (result === undefined) {
    stats.dropped++;
    return '';
  }
  const line = serialise(result) + '\n';
  stats.out++;
  return line;
}

function emitKept(result: unknown, record: unknown, text: string | undefined, stats: Stats): string {
  if (!result) {
    stats.dropped++;
    return '';
  }
  stats.out++;
  return (text ?? serialise(record)) + '\n';
}

export function serialise(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    if (error instanceof RangeError && /call stack/.test(error.message)) return serialiseDeep(value);
    // BigInt, cycles, a throwing toJSON: the result is not JSON, which no retry will change.
    throw new OutputError((error as Error).message);
  }
  if (json === undefined) throw new OutputError(`${withArticle(typeof value)} is not a JSON value`);
  return json;
}

function serialiseDeep(value: unknown): string {
  try {
    const json = stringifyDeep(value);
    if (json !== undefined) return json;
  } catch (error) {
    throw new OutputError((error as Error).message);
  }
  throw new OutputError(`${withArticle(typeof value)} is not a JSON value`);
}

/** A batch's output values, one line each; `weight` records are dropped when there are none. */
export function emitValues(values: unknown[], stats: Stats, weight: number): string {
  return joinValues(values, stats, weight);
}

function emitMany(result: unknown, stats: Stats, weight: number): string | Promise<string> {
  if (result === undefined || result === null) return countMany('', 0, stats, weight);
  if (Array.isArray(result)) return joinValues(result, stats, weight);
  if (typeof result === 'object' && Symbol.iterator in result) return joinValues(result as Iterable<unknown>, stats, weight);
  if (typeof result === 'object' && Symbol.asyncIterator in result) return joinAsync(result as AsyncIterable<unknown>, stats, weight);
  throw new OutputError(notIterable(result));
}

function joinValues(values: Iterable<unknown>, stats: Stats, weight: number): string {
  let out = '';
  let n = 0;
  for (const value of values) {
    if (value === undefined) continue;
    out += serialise(value) + '\n';
    n++;
  }
  return countMany(out, n, stats, weight);
}

async function joinAsync(values: AsyncIterable<unknown>, stats: Stats, weight: number): Promise<string> {
  let out = '';
  let n = 0;
  for await (const value of values) {
    if (value === undefined) continue;
    out += serialise(value) + '\n';
    n++;
  }
  return countMany(out, n, stats, weight);
}

function countMany(out: string, n: number, stats: Stats, weight: number): string {
  if (n === 0) stats.dropped += weight;
  stats.out += n;
  return out;
}

/** The message for a slice or batch handler's result that cannot be iterated. */
export function notIterable(result: unknown): string {
  return `handler returned ${withArticle(typeof result)}, not an array or iterable`;
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

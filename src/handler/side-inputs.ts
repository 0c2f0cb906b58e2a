import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpError } from '../core/errors.js';

/** One version of every side input: what a record sees as `ctx.side` and `ctx.sideVersion`. */
export interface SideView {
  readonly value: Readonly<Record<string, unknown>>;
  readonly version: number;
}

/** Where a thread gets the current version, between records. */
export interface SideSource {
  current(): SideView;
}

/**
 * How worker threads follow the main thread's versions: a counter in shared memory, and a
 * directory holding each version as `<version>.json`, written before the counter moves.
 * A worker compares one integer per record and reads a file only when it changed.
 */
export interface SideShare {
  counter: SharedArrayBuffer;
  dir: string;
}

/**
 * The text of one side input version: NDJSON (an array of its values) when the name ends
 * in .ndjson or .jsonl, else one JSON value. A value that does not parse throws, naming
 * `name` and the place (`rates.ndjson:3`, or V8's position for JSON).
 */
export function parseSide(text: string, name: string): unknown {
  if (!/\.(?:ndjson|jsonl)$/i.test(name)) {
    try {
      return JSON.parse(text);
    } catch (error) {
      const { line, column } = findJsonError(text);
      throw new OpError(`${name}:${line}:${column}: SyntaxError: ${shortReason((error as Error).message)}`);
    }
  }
  const values: unknown[] = [];
  const lines = text.split('\n');
  for (const [k, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      throw new OpError(`${name}:${k + 1}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  return values;
}

/**
 * Where JSON.parse failed, as line and column (1-based). V8 names no position for some
 * errors, so it is found by bisection: a prefix that ends before the bad character fails
 * only for ending early, one that holds it fails where it stands. About 20 parses for 1 MB.
 */
function findJsonError(text: string): { line: number; column: number } {
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (endsEarly(text.slice(0, mid))) good = mid;
    else bad = mid;
  }
  const before = text.slice(0, bad - 1);
  const line = before.split('\n').length;
  return { line, column: bad - before.lastIndexOf('\n') - 1 };
}

function endsEarly(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message);
    return /end of JSON|Unterminated/.test(message) || (at !== null && Number(at[1]) >= prefix.trimEnd().length);
  }
}

/** V8's reason without its excerpt of the input (which may span lines) or its position. */
function shortReason(message: string): string {
  return message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '').replace(/ (?:in JSON )?at position \d+.*$/s, '').replace(/ is not valid JSON$/, '');
}

/** A worker's view: re-read from the share when the counter moved since the last record. */
export class SharedSideReader implements SideSource {
  private readonly counter: Int32Array;
  private view: SideView = { value: {}, version: 0 };

  constructor(private readonly share: SideShare) {
    this.counter = new Int32Array(share.counter);
  }

  current(): SideView {
    let version = Atomics.load(this.counter, 0);
    while (version !== this.view.version) {
      try {
        this.view = { value: readVersion(this.share.dir, version), version };
      } catch (error) {
        // Removed already: several newer versions came meanwhile; take the newest.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        version = Atomics.load(this.counter, 0);
      }
    }
    return this.view;
  }
}

function readVersion(dir: string, version: number): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, `${version}.json`), 'utf8')) as Record<string, unknown>;
}

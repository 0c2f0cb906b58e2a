import { hashText, keyText } from '../core/key-hash.js';
import { GroupKey } from './group-key.js';

/**
 * The worker of a record, from its line, without parsing the whole record: the values of
 * the top-level key fields are found by a scan that skips other values (strings with their
 * escapes, nested objects and arrays), then hashed as `op shard --by key` hashes: FNV-1a
 * over the value itself when it is a string, else its JSON text. Several key fields hash
 * their JSON texts joined by commas. A missing field hashes as null, as it groups. A line
 * the scan cannot read goes to worker 0, which parses it and reports it.
 */
export class KeyRouter {
  /** Only top-level field names are scanned; a path such as a.b is read from the parsed record. */
  private readonly parsed: GroupKey | undefined;

  constructor(
    private readonly fields: string[],
    private readonly workers: number,
  ) {
    this.parsed = fields.some((field) => field.includes('.')) ? new GroupKey(fields) : undefined;
  }

  workerOf(line: string): number {
    if (this.parsed) return this.parse(line);
    const fields = this.fields;
    if (fields.length === 1) {
      const raw = scanField(line, fields[0]!);
      if (raw === null) return 0;
      return hashText(raw === undefined ? 'null' : singleText(raw)) % this.workers;
    }
    let text = '';
    for (let k = 0; k < fields.length; k++) {
      const raw = scanField(line, fields[k]!);
      if (raw === null) return 0;
      text += (k ? ',' : '') + (raw === undefined ? 'null' : canonical(raw));
    }
    return hashText(text) % this.workers;
  }

  private parse(line: string): number {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return 0;
    }
    const key = this.parsed!;
    if (key.fields.length > 1) return hashText(key.textOf(record)) % this.workers;
    const text = key.textOf(record);
    return hashText(text === 'null' ? 'null' : keyText(JSON.parse(text))) % this.workers;
  }
}

/** The key text of one field, as op shard hashes it: the string itself, or the JSON text. */
export function singleText(raw: string): string {
  if (raw.charCodeAt(0) === 34 && !raw.includes('\\')) return raw.slice(1, -1);
  const value = JSON.parse(raw) as unknown;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** JSON.stringify(JSON.parse(raw)), skipping the round trip when raw is already in that form. */
export function canonical(raw: string): string {
  const c = raw.charCodeAt(0);
  if (c === 34 && !raw.includes('\\')) return raw;
  if (/^-?(?:0|[1-9]\d{0,14})$/.test(raw)) return raw;
  return JSON.stringify(JSON.parse(raw));
}

/**
 * The raw JSON text of top-level field `name` of the object on `line`; undefined when the
 * object has no such field (or the line is not an object); null when the line cannot be read.
 */
export function scanField(line: string, name: string): string | undefined | null {
  const n = line.length;
  let at = skipSpace(line, 0);
  if (line.charCodeAt(at) === 0xfeff) at = skipSpace(line, at + 1);
  if (line.charCodeAt(at) !== 123) return undefined; // not an object
  at = skipSpace(line, at + 1);
  if (line.charCodeAt(at) === 125) return undefined;
  while (at < n) {
    if (line.charCodeAt(at) !== 34) return null;
    const keyEnd = skipString(line, at);
    if (keyEnd < 0) return null;
    // Compared in place: no string is made for the keys passed over.
    const matches = keyEnd - at - 2 === name.length ? line.startsWith(name, at + 1) : hasEscape(line, at, keyEnd) && JSON.parse(line.slice(at, keyEnd)) === name;
    at = skipSpace(line, keyEnd);
    if (line.charCodeAt(at) !== 58) return null;
    at = skipSpace(line, at + 1);
    const valueEnd = skipValue(line, at);
    if (valueEnd < 0) return null;
    if (matches) return line.slice(at, valueEnd);
    at = skipSpace(line, valueEnd);
    const c = line.charCodeAt(at);
    if (c === 125) return undefined;
    if (c !== 44) return null;
    at = skipSpace(line, at + 1);
  }
  return null;
}

function hasEscape(line: string, start: number, end: number): boolean {
  const at = line.indexOf('\\', start);
  return at >= 0 && at < end;
}

function skipSpace(line: string, at: number): number {
  for (;;) {
    const c = line.charCodeAt(at);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return at;
    at++;
  }
}

/** The index after the string starting at `at` (a quote), or -1. */
function skipString(line: string, at: number): number {
  for (let k = at + 1; k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c === 92) k++;
    else if (c === 34) return k + 1;
  }
  return -1;
}

/** The index after the value starting at `at`, or -1. */
function skipValue(line: string, at: number): number {
  const c = line.charCodeAt(at);
  if (c === 34) return skipString(line, at);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let k = at; k < line.length; k++) {
      const d = line.charCodeAt(k);
      if (d === 34) {
        k = skipString(line, k) - 1;
        if (k < 0) return -1;
      } else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        if (--depth === 0) return k + 1;
      }
    }
    return -1;
  }
  let k = at;
  while (k < line.length) {
    const d = line.charCodeAt(k);
    if (d === 44 || d === 125 || d === 32 || d === 9 || d === 13 || d === 93) break;
    k++;
  }
  return k > at ? k : -1;
}

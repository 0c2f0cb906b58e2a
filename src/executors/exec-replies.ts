import { OutputError, type Kind } from '../core/errors.js';
import { ReplyError } from '../handler/reply-error.js';
import { isJsonValue, scanArray } from '../io/scan-json.js';
import { serialise } from '../records/emit-results.js';
import type { ExecTask } from './exec-task.js';

const EMPTY = new Uint8Array(0);

/** A reply that breaks the protocol: the child is replaced and its records rerun. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * A reply's JSON text `b[start, end)` as unit u's outcome, by what it means for the command:
 * map, the output record (under --protocol json, null drops it); filter, kept when truthy by
 * JavaScript's rules; slice and batch, an array of output records. Returns why it breaks
 * the protocol, if it does. `newline`: b[end] is the line's own `\n`, so the output can
 * include it as it is.
 */
export function takeValue(kind: Kind, task: ExecTask, u: number, b: Uint8Array, start: number, end: number, newline: boolean, nullDrops: boolean): ProtocolError | undefined {
  switch (kind) {
    case 'map':
      if (!isJsonValue(b, start, end)) return notJson(b, start, end);
      if (nullDrops && isNull(b, start, end)) task.done(u, EMPTY, 0, 0, false, 0);
      else if (newline) task.done(u, b, start, end + 1, false, 1);
      else task.done(u, b, start, end, true, 1);
      return undefined;
    case 'filter': {
      const kept = truthy(b, start, end);
      if (kept === undefined) return notJson(b, start, end);
      keep(task, u, kept);
      return undefined;
    }
    default: {
      const spans: number[] = [];
      const shape = scanArray(b, start, end, spans);
      if (shape === 'invalid') return notJson(b, start, end);
      if (shape === 'deep') return takeParsed(kind, task, u, JSON.parse(text(b, start, end)));
      if (shape === 'other') {
        if (isNull(b, start, end)) task.done(u, EMPTY, 0, 0, false, 0);
        else task.fail(u, { cause: new OutputError(`the reply is ${describeJson(b, start, end)}, not an array of records`), stage: 'serialize', attempts: task.attempts[u]! });
        return undefined;
      }
      let bytes = 0;
      for (let k = 0; k < spans.length; k += 2) bytes += spans[k + 1]! - spans[k]! + 1;
      const out = Buffer.allocUnsafeSlow(bytes);
      let at = 0;
      for (let k = 0; k < spans.length; k += 2) {
        out.set(b.subarray(spans[k]!, spans[k + 1]!), at);
        at += spans[k + 1]! - spans[k]!;
        out[at++] = 10;
      }
      task.done(u, out, 0, bytes, false, spans.length / 2);
      return undefined;
    }
  }
}

/** `out` of a reply that was parsed (--protocol json in any other shape than op's own): as a JS handler's result. */
export function takeParsed(kind: Kind, task: ExecTask, u: number, value: unknown): undefined {
  try {
    switch (kind) {
      case 'map': {
        if (value === null || value === undefined) return void task.done(u, EMPTY, 0, 0, false, 0);
        const out = Buffer.from(serialise(value));
        return void task.done(u, out, 0, out.length, true, 1);
      }
      case 'filter':
        return void keep(task, u, Boolean(value));
      default: {
        if (value === null || value === undefined) return void task.done(u, EMPTY, 0, 0, false, 0);
        if (!Array.isArray(value)) throw new OutputError(`the reply is a ${typeof value}, not an array of records`);
        const out = Buffer.from(value.map((element) => serialise(element) + '\n').join(''));
        return void task.done(u, out, 0, out.length, false, value.length);
      }
    }
  } catch (error) {
    task.fail(u, { cause: error, stage: 'serialize', attempts: task.attempts[u]! });
  }
}

/** op filter's outcome: the record as read, or nothing. */
function keep(task: ExecTask, u: number, kept: boolean): void {
  if (!kept) {
    task.done(u, EMPTY, 0, 0, false, 0);
    return;
  }
  const r = task.unitFrom[u]!;
  const end = task.recEnd[r]!;
  const buf = task.chunk.bytes;
  if (end < buf.length && buf[end] === 10) task.done(u, buf, task.recStart[r]!, end + 1, false, 1);
  else task.done(u, buf, task.recStart[r]!, end, true, 1);
}

/** JavaScript's truthiness of the JSON value b[start, end); undefined when it is not JSON. */
function truthy(b: Uint8Array, start: number, end: number): boolean | undefined {
  if (!isJsonValue(b, start, end)) return undefined;
  while (b[start] === 0x20 || b[start] === 0x09) start++;
  switch (b[start]) {
    case 0x74:
      return true;
    case 0x66:
    case 0x6e:
      return false;
    case 0x7b:
    case 0x5b:
      return true;
    case 0x22:
      return b[start + 1] !== 0x22;
    default:
      return Number(text(b, start, end)) !== 0;
  }
}

function isNull(b: Uint8Array, start: number, end: number): boolean {
  const text = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1').trim();
  return text === 'null';
}

function notJson(b: Uint8Array, start: number, end: number): ProtocolError {
  return new ProtocolError(`the reply is not JSON: ${excerpt(b, start, end)}`);
}

function describeJson(b: Uint8Array, start: number, end: number): string {
  const text = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8').trim();
  if (text.startsWith('{')) return 'an object';
  if (text.startsWith('"')) return 'a string';
  if (text === 'true' || text === 'false') return 'a boolean';
  return 'a number';
}

/** At most 80 characters of a reply, for a message. */
export function excerpt(b: Uint8Array, start: number, end: number): string {
  const whole = text(b, start, Math.min(end, start + 400));
  const cut = whole.length > 80 ? `${whole.slice(0, 80)}…` : whole;
  return JSON.stringify(cut);
}

function text(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
}

/** A `--protocol json` reply: its id, and its `out` as a range of the line, as a parsed value, or its error. */
export type JsonReply = { id: number; start: number; end: number } | { id: number; value: unknown } | { id: number; error: ReplyError };

const ID_PREFIX = Buffer.from('{"id":');
const OUT_KEY = Buffer.from(',"out":');

/**
 * Reads one `--protocol json` reply line b[start, end). op's own helper writes
 * `{"id":N,"out":V}` exactly, and V is then taken as bytes (checked, never parsed); any
 * other shape (other key order, spaces, an error) is parsed.
 */
export function readJsonReply(b: Uint8Array, start: number, end: number): JsonReply | ProtocolError {
  let last = end - 1;
  while (last > start && (b[last] === 0x20 || b[last] === 0x0d || b[last] === 0x09)) last--;
  if (hasAt(b, start, ID_PREFIX) && b[last] === 0x7d) {
    let i = start + ID_PREFIX.length;
    let id = 0;
    const digits = i;
    while (i < last && b[i]! >= 0x30 && b[i]! <= 0x39 && i - digits < 15) id = id * 10 + (b[i++]! - 0x30);
    if (i > digits && hasAt(b, i, OUT_KEY)) {
      const from = i + OUT_KEY.length;
      if (isJsonValue(b, from, last)) return { id, start: from, end: last };
    }
  }
  let reply: unknown;
  try {
    reply = JSON.parse(text(b, start, end));
  } catch {
    return new ProtocolError(`the reply is not JSON: ${excerpt(b, start, end)}`);
  }
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) return new ProtocolError(`the reply is not an object with an "id": ${excerpt(b, start, end)}`);
  const { id, out, error } = reply as { id?: unknown; out?: unknown; error?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return new ProtocolError(`the reply has no whole-number "id": ${excerpt(b, start, end)}`);
  if (error === undefined) return { id, value: out };
  const { type, name, at } = reply as { type?: unknown; name?: unknown; at?: unknown };
  const kind = typeof type === 'string' ? type : typeof name === 'string' ? name : 'Error';
  return { id, error: new ReplyError(kind, typeof error === 'string' ? error : JSON.stringify(error), typeof at === 'string' ? at : undefined) };
}

function hasAt(b: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > b.length) return false;
  for (let k = 0; k < bytes.length; k++) if (b[at + k] !== bytes[k]) return false;
  return true;
}

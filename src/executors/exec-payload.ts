import type { ExecTask } from './exec-task.js';

/**
 * The bytes a child gets for some units of a task, one line per unit, in one write.
 * `--protocol lines`: each record as read (under op batch, the JSON array of the batch's
 * records). When the records lie in the chunk one after another with plain `\n` endings
 * (the usual case) the bytes are a view of the chunk: nothing is copied or parsed.
 */
export function linesPayload(task: ExecTask, units: readonly number[]): Buffer {
  const buf = task.chunk.bytes;
  if (!task.chunk.batches && isContiguous(task, units)) {
    return buf.subarray(task.recStart[task.unitFrom[units[0]!]!], task.recEnd[task.unitFrom[units[units.length - 1]!]!]! + 1);
  }
  let bytes = 0;
  for (const u of units) bytes += unitBytes(task, u);
  const out = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const u of units) at = writeUnit(task, u, out, at);
  return out;
}

/**
 * `--protocol json`: `{"id":N,"record":R}` per unit (under op batch `"records":[…]`), R
 * copied from the line as read, never parsed. With --side, `"sideVersion":V` after the id:
 * the version of the side inputs (OP_SIDE_DIR/V.json) the record is to see.
 */
export function jsonPayload(task: ExecTask, units: readonly number[], ids: readonly number[], sideVersion?: number): Buffer {
  const key = (sideVersion === undefined ? '' : `,"sideVersion":${sideVersion}`) + (task.chunk.batches ? ',"records":' : ',"record":');
  let bytes = 0;
  for (let k = 0; k < units.length; k++) bytes += 6 + String(ids[k]).length + key.length + unitBytes(task, units[k]!) + 1;
  const out = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (let k = 0; k < units.length; k++) {
    at += out.write(`{"id":${ids[k]}${key}`, at, 'latin1');
    at = writeUnit(task, units[k]!, out, at) - 1;
    out[at++] = 0x7d;
    out[at++] = 10;
  }
  return out;
}

/** True when the units' records follow each other in the chunk, each ending in a bare `\n`. */
function isContiguous(task: ExecTask, units: readonly number[]): boolean {
  const buf = task.chunk.bytes;
  let previous = -1;
  for (const u of units) {
    const r = task.unitFrom[u]!;
    const end = task.recEnd[r]!;
    if (end >= buf.length || buf[end] !== 10) return false;
    if (previous >= 0 && task.recStart[r] !== task.recEnd[previous]! + 1) return false;
    previous = r;
  }
  return previous >= 0;
}

/** Bytes of a unit's line, newline included: a record, or `[r1,r2,…]`. */
function unitBytes(task: ExecTask, u: number): number {
  const from = task.unitFrom[u]!;
  const to = task.unitTo[u]!;
  let bytes = 0;
  for (let r = from; r < to; r++) bytes += task.recEnd[r]! - task.recStart[r]!;
  return task.chunk.batches ? bytes + (to - from - 1) + 3 : bytes + 1;
}

/** Writes unit u's line at `at`, newline included; returns the offset after it. */
function writeUnit(task: ExecTask, u: number, out: Buffer, at: number): number {
  const buf = task.chunk.bytes;
  const from = task.unitFrom[u]!;
  const to = task.unitTo[u]!;
  const batch = task.chunk.batches !== undefined;
  if (batch) out[at++] = 0x5b;
  for (let r = from; r < to; r++) {
    if (batch && r > from) out[at++] = 0x2c;
    at += buf.copy(out, at, task.recStart[r], task.recEnd[r]);
  }
  if (batch) out[at++] = 0x5d;
  out[at++] = 10;
  return at;
}

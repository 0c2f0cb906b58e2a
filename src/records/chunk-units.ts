import { isBlankBytes } from '../io/is-blank-line.js';
import { contentEnd } from '../io/line-end.js';
import type { Chunk } from './chunk.js';
import type { PlacedLine } from './failed-records.js';

/** A record, or for op batch a whole batch, with its byte range in the chunk. */
export interface Unit {
  start: number;
  end: number;
  firstLine: number;
  firstIndex: number;
  records: PlacedLine[];
}

/**
 * The chunk's units in order: one per record, or one per batch when the chunk holds
 * batches. An executor reruns a chunk unit by unit when it cannot tell which record broke it.
 */
export function* chunkUnits(chunk: Chunk): Generator<Unit> {
  const buf = chunk.bytes;
  const sizes = chunk.batches ? [...chunk.batches] : undefined;
  let unit: Unit | undefined;
  let index = chunk.firstIndex;
  let line = chunk.firstLine;
  for (let start = 0; start < buf.length; line++) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length;
    const end = Math.min(nl + 1, buf.length);
    if (!isBlankBytes(buf, start, nl)) {
      unit ??= { start, end, firstLine: line, firstIndex: index, records: [] };
      unit.end = end;
      unit.records.push({ line, text: buf.toString('utf8', start, contentEnd(buf, nl, start)) });
      index++;
      if (!sizes || unit.records.length >= (sizes[0] ?? 1)) {
        sizes?.shift();
        yield unit;
        unit = undefined;
      }
    }
    start = end;
  }
  if (unit) yield unit;
}

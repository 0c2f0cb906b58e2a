import { OpError } from '../core/errors.js';
import type { Sink } from '../io/open-sink.js';
import type { LineBatch } from './line-batch.js';
import type { LineReader } from './line-reader.js';
import { compareKeys, keyOf, showKey, type Key, type KeySpec } from './merge-key.js';
import { MinHeap } from '../core/min-heap.js';

/** The record an input offers next. */
interface Head {
  reader: LineReader;
  /** Position among the inputs: equal keys come out in input order (a stable merge). */
  input: number;
  line: Buffer;
  key: Key;
}

/**
 * `op merge --key FIELD`: a k-way merge of inputs each sorted by FIELD, streaming, holding
 * one record (and one read) per input. An input found out of order stops the merge with
 * its place; everything written before it is whole lines.
 */
export async function mergeByKey(readers: readonly LineReader[], spec: KeySpec, batch: LineBatch, sink: Sink, halted: () => boolean): Promise<void> {
  const direction = spec.reverse ? -1 : 1;
  const heap = new MinHeap<Head>((a, b) => {
    const order = compareKeys(a.key, b.key) * direction;
    return order < 0 || (order === 0 && a.input < b.input);
  });
  for (let input = 0; input < readers.length; input++) {
    const reader = readers[input] as LineReader;
    const line = await reader.read();
    if (halted()) return;
    if (line !== undefined) heap.push({ reader, input, line, key: keyOf(line, spec, placeOf(reader)) });
  }
  for (let head = heap.peek(); head !== undefined; head = heap.peek()) {
    batch.add(head.line);
    const line = head.reader.take() ?? (await head.reader.read());
    // Stopped: what was merged so far is whole lines; the rest is not read.
    if (halted()) return;
    if (line === undefined) {
      heap.pop();
    } else {
      const key = keyOf(line, spec, placeOf(head.reader));
      if (compareKeys(key, head.key) * direction < 0) throw outOfOrder(head.reader, spec, key, head.key, line);
      head.line = line;
      head.key = key;
      heap.siftTop();
    }
    if (batch.full) {
      await batch.flush();
      if (sink.closed) return;
    }
  }
}

function placeOf(reader: LineReader): { source: string; line: number } {
  return { source: reader.name, line: reader.line };
}

function outOfOrder(reader: LineReader, spec: KeySpec, key: Key, previous: Key, line: Buffer): OpError {
  const order = spec.reverse ? 'descending' : 'ascending';
  return new OpError(`out of order: ${spec.field} ${showKey(key)} after ${showKey(previous)}; each input must be sorted by ${spec.field} (${order})`, {
    place: placeOf(reader),
    excerpt: line.toString('utf8'),
  });
}

import type { Sink } from '../io/open-sink.js';
import type { LineBatch } from './line-batch.js';
import type { LineReader } from './line-reader.js';

/**
 * `op merge --round-robin`: one record from each input in turn, skipping inputs that are
 * done. Index shares (`op shard` rank r of w holds records r, r+w, …) come back in their
 * original order, as long as each stage kept one output per input record.
 */
export async function mergeRoundRobin(readers: readonly LineReader[], batch: LineBatch, sink: Sink, halted: () => boolean): Promise<void> {
  let active = readers;
  while (active.length > 0) {
    for (const reader of active) {
      // take() is synchronous while the current read lasts; read() awaits only at its end.
      const line = reader.take() ?? (await reader.read());
      // Stopped: what was merged so far is whole lines; the rest is not read.
      if (halted()) return;
      if (line !== undefined) batch.add(line);
    }
    if (active.some((reader) => reader.exhausted)) active = active.filter((reader) => !reader.exhausted);
    if (batch.full) {
      await batch.flush();
      if (sink.closed) return;
    }
  }
}

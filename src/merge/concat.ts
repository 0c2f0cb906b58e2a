import { openSource, readFailure } from '../io/open-source.js';
import type { Sink } from '../io/open-sink.js';
import { IndexRouter } from '../io/route-by-index.js';
import type { MergeStop } from './merge-stop.js';

/** 1 MiB reads, as op shard's byte path (bench/shard.mjs). */
const READ_BYTES = 1024 * 1024;

/**
 * `op merge` without a mode: the inputs one after another, as bytes. This is op shard's
 * index routing with a world of 1, so blank lines, a BOM, and a last line without a
 * newline (which must not glue two records together) are handled the same way. A stop
 * (SIGINT, SIGTERM) ends the output on a line boundary: a line already begun is read to
 * its end, a line not begun is not written.
 */
export async function concatInputs(files: readonly string[], sink: Sink, stop: MergeStop): Promise<void> {
  const router = new IndexRouter(1, Int32Array.of(0), 1);
  for (const file of files) {
    if (stop.stopped) return;
    const source = openSource(file, READ_BYTES);
    router.startSource();
    // A read blocked on a quiet pipe is cut short, unless a line is half written.
    const release = stop.onStop(() => {
      if (!router.midLine) source.stream.destroy();
    });
    const reads = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await reads.next();
        if (next.done) break;
        // After a stop only the rest of the line begun is routed, not the lines after it.
        const nl = stop.stopped ? next.value.indexOf(10) : -1;
        router.push(nl < 0 ? next.value : next.value.subarray(0, nl + 1));
        await write(sink, router.take()[0]);
        // Nobody reads our output any more, or a stop came and the last line is whole.
        if (sink.closed || (stop.stopped && !router.midLine)) return;
      }
    } catch (error) {
      if (stop.stopped && !router.midLine) return;
      throw readFailure(source.name, error);
    } finally {
      release();
      await reads.return?.();
    }
    router.endSource();
    await write(sink, router.take()[0]);
  }
}

async function write(sink: Sink, out: Buffer | undefined): Promise<void> {
  if (out !== undefined) await sink.write(out);
}

import type { Sink } from '../io/open-sink.js';
import { IndexRouter } from '../io/route-by-index.js';
import { routeSource } from '../io/route-source.js';
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
  const target = {
    flush: async () => {
      const out = router.take()[0];
      if (out !== undefined) await sink.write(out);
    },
    get closed() {
      return sink.closed;
    },
  };
  for (const file of files) {
    if (stop.stopped) return;
    await routeSource(file, READ_BYTES, router, stop, target);
    if (sink.closed) return;
  }
}

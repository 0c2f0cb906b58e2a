import { OpError, describeCause } from '../core/errors.js';
import { openSource } from '../io/open-source.js';
import type { Sink } from '../io/open-sink.js';
import { IndexRouter } from '../shard/route-by-index.js';

/** 1 MiB reads, as op shard's byte path (bench/shard.mjs). */
const READ_BYTES = 1024 * 1024;

/**
 * `op merge` without a mode: the inputs one after another, as bytes. This is op shard's
 * index routing with a world of 1, so blank lines, a BOM, and a last line without a
 * newline (which must not glue two records together) are handled the same way.
 */
export async function concatInputs(files: readonly string[], sink: Sink): Promise<void> {
  const router = new IndexRouter(1, Int32Array.of(0), 1);
  for (const file of files) {
    const source = openSource(file, READ_BYTES);
    router.startSource();
    try {
      for await (const buf of source.stream as AsyncIterable<Buffer>) {
        router.push(buf);
        await write(sink, router.take()[0]);
        // Leaving the loop destroys the stream: nobody reads our output any more.
        if (sink.closed) return;
      }
    } catch (error) {
      throw new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
    }
    router.endSource();
    await write(sink, router.take()[0]);
  }
}

async function write(sink: Sink, out: Buffer | undefined): Promise<void> {
  if (out !== undefined) await sink.write(out);
}

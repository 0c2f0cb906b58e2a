import { none } from 'stream-chain/defs.js';

/** Values handed to the engine per step: enough to amortise the awaits, few enough to stay responsive. */
const VALUES_PER_STEP = 512;

type Pipeline = (chunk: unknown) => AsyncIterable<{ value: unknown }>;

/**
 * `--input-format json`: the elements of a top-level array, or a stream of concatenated
 * JSON values, parsed incrementally (stream-json) so a huge array never sits in memory.
 * stream-json's function form is used rather than its stream: on a syntax error it has
 * already handed over the values before it, which a stream would drop with its buffer.
 */
export async function* readJsonValues(stream: NodeJS.ReadableStream): AsyncGenerator<unknown[]> {
  let pipeline: Pipeline | undefined;
  let batch: unknown[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pipeline ??= await choosePipeline(chunk);
      if (!pipeline) continue;
      for await (const item of pipeline(chunk)) {
        batch.push(item.value);
        if (batch.length >= VALUES_PER_STEP) {
          yield batch;
          batch = [];
        }
      }
    }
    if (pipeline) for await (const item of pipeline(none)) batch.push(item.value);
  } finally {
    // On a syntax error too: the values before it are records like any other.
    if (batch.length) yield batch;
  }
}

/** A top-level array streams its elements; anything else is a run of concatenated values. */
async function choosePipeline(chunk: Buffer): Promise<Pipeline | undefined> {
  const first = chunk.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf);
  if (first === undefined) return undefined;
  if (first === 0x5b) {
    const { default: streamArray } = await import('stream-json/streamers/stream-array.js');
    return streamArray.withParser() as unknown as Pipeline;
  }
  const { default: streamValues } = await import('stream-json/streamers/stream-values.js');
  return streamValues.withParser() as unknown as Pipeline;
}

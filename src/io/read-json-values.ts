import type { Readable } from 'node:stream';

/** Values handed to the engine per step: enough to amortise the awaits, few enough to stay responsive. */
const VALUES_PER_STEP = 512;

/**
 * `--input-format json`: the elements of a top-level array, or a stream of concatenated
 * JSON values, parsed incrementally (stream-json) so a huge array never sits in memory.
 */
export async function* readJsonValues(stream: NodeJS.ReadableStream): AsyncGenerator<unknown[]> {
  const [first, rest] = await peekFirstByte(stream as Readable);
  const { default: streamArray } = await import('stream-json/streamers/stream-array.js');
  const { default: streamValues } = await import('stream-json/streamers/stream-values.js');
  const parser = first === 0x5b ? streamArray.withParserAsStream() : streamValues.withParserAsStream();
  if (rest.length) parser.write(rest);
  (stream as Readable).pipe(parser);
  (stream as Readable).once('error', (error) => parser.destroy(error));
  let batch: unknown[] = [];
  for await (const item of parser as AsyncIterable<{ value: unknown }>) {
    batch.push(item.value);
    if (batch.length >= VALUES_PER_STEP) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** The first byte that is not whitespace, and every byte read so far (to replay into the parser). */
async function peekFirstByte(stream: Readable): Promise<[number | undefined, Buffer]> {
  const seen: Buffer[] = [];
  for (;;) {
    const chunk = await readOnce(stream);
    if (chunk === undefined) return [undefined, Buffer.concat(seen)];
    seen.push(chunk);
    for (const byte of chunk) {
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf) {
        return [byte, Buffer.concat(seen)];
      }
    }
  }
}

function readOnce(stream: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      cleanup();
      stream.pause();
      resolve(chunk);
    };
    const onEnd = (): void => (cleanup(), resolve(undefined));
    const onError = (error: Error): void => (cleanup(), reject(error));
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

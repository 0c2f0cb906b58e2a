import { readSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { OpError } from '../core/errors.js';

/** A source's bytes as lines are read from them: decompressed when the source is gzip. */
export interface DecodedStream {
  stream: Readable;
  /** Bytes of the source itself (compressed) taken so far; undefined while nothing says it is gzip. */
  consumed: () => number | undefined;
}

/** gzip's first two bytes, ID1 and ID2 (RFC 1952, section 2.3.1). */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Whether the regular file open at `fd` starts with gzip's magic bytes (a positional read: its offset stays). */
export function fileIsGzip(fd: number): boolean {
  const head = Buffer.alloc(2);
  return isGzip(head.subarray(0, readSync(fd, head, 0, 2, 0)));
}

/**
 * `raw` decompressed. A decompression failure (a corrupt or truncated file) ends the stream
 * with one line naming the source: `x.ndjson.gz: corrupt gzip data: unexpected end of file`;
 * everything decompressed before it was handed out first.
 */
export function gunzip(raw: Readable, name: string): DecodedStream {
  const zlib = createGunzip();
  const out = through(raw, () => zlib);
  failOnError(zlib, raw, out, name);
  raw.pipe(zlib).pipe(out);
  return { stream: out, consumed: () => zlib.bytesWritten };
}

/**
 * For a source whose kind cannot be known before reading (a pipe): its first bytes decide.
 * gzip's magic bytes (1f 8b) make it gunzip(); anything else passes through unchanged, and
 * a line of NDJSON never starts with 0x1f.
 */
export function sniffGzip(raw: Readable, name: string): DecodedStream {
  let zlib: Gunzip | undefined;
  const out = through(raw, () => zlib);
  const head: Buffer[] = [];
  let headBytes = 0;
  const decide = (): void => {
    raw.off('data', onData);
    raw.off('end', decide);
    raw.pause();
    const first = Buffer.concat(head, headBytes);
    if (isGzip(first)) {
      zlib = createGunzip();
      failOnError(zlib, raw, out, name);
      zlib.write(first);
      raw.pipe(zlib).pipe(out);
      return;
    }
    if (first.length > 0) out.write(first);
    if (raw.readableEnded) out.end();
    else raw.pipe(out);
  };
  const onData = (chunk: Buffer): void => {
    head.push(chunk);
    headBytes += chunk.length;
    if (headBytes >= 2) decide();
  };
  raw.on('data', onData);
  raw.on('end', decide);
  return { stream: out, consumed: () => zlib?.bytesWritten };
}

/** How often a failed stream looks whether its reader took what came before the failure. */
const FAIL_POLL_MS = 5;

/**
 * A decompression failure ends `out` with one line naming the source, once the reader has
 * taken every byte decompressed before it: a destroyed stream's iterator drops what it
 * still holds, and those bytes are whole lines to run.
 */
function failOnError(zlib: Gunzip, raw: Readable, out: PassThrough, name: string): void {
  zlib.on('error', (error) => {
    raw.unpipe(zlib);
    raw.destroy();
    zlib.unpipe(out);
    // Output that waited in gzip's buffer for a slower reader.
    for (let chunk: Buffer | null = zlib.read(); chunk !== null; chunk = zlib.read()) out.write(chunk);
    const failure = new OpError(`${name}: corrupt gzip data: ${error.message}`, { cause: error });
    const fail = (): void => {
      if (out.destroyed) return;
      if (out.readableLength === 0) out.destroy(failure);
      else setTimeout(fail, FAIL_POLL_MS);
    };
    fail();
  });
}

/** The stream handed out: destroying it (a stop) destroys what feeds it; a read error ends it. */
function through(raw: Readable, zlib: () => Gunzip | undefined): PassThrough {
  const out = new PassThrough({
    destroy(error, callback) {
      raw.destroy();
      zlib()?.destroy();
      callback(error);
    },
  });
  raw.on('error', (error) => out.destroy(error));
  return out;
}

import { closeSync, createReadStream, fstatSync, openSync, statSync, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { OpError, UsageError, describeCause } from '../core/errors.js';
import { fsReason } from './fs-reason.js';
import { fileIsGzip, gunzip, sniffGzip, type DecodedStream } from './gunzip-source.js';

/** 64 KiB reads: at 256 KiB and 1 MiB the decoded strings outgrow the young generation; 64 KiB was fastest and smallest (bench/RESULTS.md). */
export const READ_BYTES = Number(process.env.OP_READ_BYTES) || 64 * 1024;

export interface Source {
  /** `stdin` or the path as given: the prefix of every error place. */
  name: string;
  /** Bytes, when the source is a regular file (for `--progress` percent). */
  size: number | undefined;
  /** The lines' bytes: decompressed when the source is gzip (known by its first two bytes). */
  stream: NodeJS.ReadableStream & { destroy(): void };
  /** Compressed bytes taken so far, once the source is known to be gzip; else undefined. */
  consumed: () => number | undefined;
}

/** A failure while reading source `name`: its own one-line error (corrupt gzip data) as it is, else `name: cannot read: why`. */
export function readFailure(name: string, error: unknown): OpError {
  return error instanceof OpError ? error : new OpError(`${name}: cannot read: ${describeCause(error)}`, { cause: error });
}

/** Fails early, before any input is read, when a named input file cannot be opened. */
export function checkInputs(specs: string[]): void {
  for (const spec of specs) if (spec !== '-') checkInput(spec, `--in ${spec}`);
}

/** A usage error, named by `label`, unless `path` is a readable non-directory. */
export function checkInput(path: string, label = path): void {
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${label}: is a directory`);
    // Opened, not just stat'ed: a file we may not read fails here, before any input is read.
    closeSync(openSync(path, 'r'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${label}: ${fsReason(error)}`);
  }
}

export function openSource(spec: string, readBytes = READ_BYTES): Source {
  if (spec !== '-') {
    // A named pipe is opened by the stream, asynchronously: opening it here would wait for its writer.
    if (!statSync(spec).isFile()) return { name: spec, size: undefined, ...sniffGzip(createReadStream(spec, { highWaterMark: readBytes }), spec) };
    const fd = openSync(spec, 'r');
    const raw = createReadStream('', { fd, highWaterMark: readBytes });
    return { name: spec, size: fstatSync(fd).size, ...decoded(raw, spec, fileIsGzip(fd)) };
  }
  const stat = fstatSync(0);
  if (stat.isFile()) {
    // A redirected file: read it with large reads instead of the 64 KiB of process.stdin.
    const stream: ReadStream = createReadStream('', { fd: 0, highWaterMark: readBytes, autoClose: false, start: 0 });
    return { name: 'stdin', size: stat.size, ...decoded(stream, 'stdin', fileIsGzip(0)) };
  }
  return { name: 'stdin', size: undefined, ...sniffGzip(process.stdin, 'stdin') };
}

/**
 * `spec` (`-`: stdin) as a descriptor, when it is a regular file that is not compressed;
 * else undefined, and nothing is left open. For a reader that reads by descriptor into
 * memory of its own.
 */
export function openPlainFile(spec: string): { name: string; fd: number; close(): void } | undefined {
  const file = openRegularFile(spec);
  if (!file?.gzip) return file;
  file.close();
  return undefined;
}

interface RegularFile {
  name: string;
  fd: number;
  size: number;
  gzip: boolean;
  close(): void;
}

/**
 * `spec` (`-`: stdin) opened, when it is a regular file; else undefined, with nothing
 * opened: opening a named pipe would wait for its writer, which a stream does not.
 */
function openRegularFile(spec: string): RegularFile | undefined {
  if (spec === '-') {
    const stat = fstatSync(0);
    return stat.isFile() ? { name: 'stdin', fd: 0, size: stat.size, gzip: fileIsGzip(0), close: () => {} } : undefined;
  }
  const stat = statSync(spec);
  if (!stat.isFile()) return undefined;
  const fd = openSync(spec, 'r');
  return { name: spec, fd, size: stat.size, gzip: fileIsGzip(fd), close: () => closeSync(fd) };
}

/** `raw` as lines are read from it: gunzipped, passed through, or (`gzip` unknown: a pipe) decided by its first bytes. */
function decoded(raw: Readable, name: string, gzip: boolean | undefined): DecodedStream {
  if (gzip === undefined) return sniffGzip(raw, name);
  return gzip ? gunzip(raw, name) : { stream: raw, consumed: () => undefined };
}

/**
 * The bytes of all inputs, when every one is a regular file (compressed bytes for gzip,
 * which is how its progress is counted), else undefined.
 */
export function inputSize(specs: string[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const stat = spec === '-' ? fstatSync(0) : statSync(spec);
    if (!stat.isFile()) return undefined;
    total += stat.size;
  }
  return total;
}

/** A source for the chunk reader: a descriptor for regular files (read straight into shared memory), else a stream. */
export interface ChunkSource {
  name: string;
  size: number | undefined;
  fd: number | undefined;
  /** With `fd`: read it ahead (the inline path, whose main thread also runs the records). */
  readAhead?: boolean | undefined;
  stream: NodeJS.ReadableStream & { destroy(): void };
  /**
   * Bytes of the source taken so far, when the stream's bytes are not the source's own
   * (gzip: the compressed bytes), for the progress line; else undefined.
   */
  consumed?: (() => number | undefined) | undefined;
  close(): void;
}

/**
 * A regular file is read by descriptor into the chunk buffers (read-chunks.ts); with
 * `readAhead`, reads run ahead of the work on the chunks, which the main thread does when
 * the handler runs inline. A pipe, a gzip file, and any input when `stream` is set (JSON
 * input, turned into lines on the way) go through a stream.
 */
export function openChunkSource(spec: string, options: { readAhead: boolean; stream?: boolean }): ChunkSource {
  const file = openRegularFile(spec);
  if (!file && spec === '-') return streamSource('stdin', undefined, process.stdin, undefined);
  if (!file) return streamSource(spec, undefined, createReadStream('', { fd: openSync(spec, 'r'), highWaterMark: READ_BYTES }), undefined);
  if (options.stream || file.gzip) {
    // stdin is not ours to close, and is read from its start whatever was read of it before.
    const where = file.fd === 0 ? { autoClose: false, start: 0 } : {};
    return streamSource(file.name, file.size, createReadStream('', { fd: file.fd, highWaterMark: READ_BYTES, ...where }), file.gzip);
  }
  return { name: file.name, size: file.size, fd: file.fd, readAhead: options.readAhead, stream: process.stdin, close: file.close };
}

function streamSource(name: string, size: number | undefined, raw: Readable, gzip: boolean | undefined): ChunkSource {
  const { stream, consumed } = decoded(raw, name, gzip);
  return { name, size, fd: undefined, stream, consumed, close: () => {} };
}

import { closeSync, createReadStream, fstatSync, openSync, statSync, type ReadStream } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { fsReason } from './fs-reason.js';

/** 64 KiB reads: at 256 KiB and 1 MiB the decoded strings outgrow the young generation; 64 KiB was fastest and smallest (bench/RESULTS.md). */
export const READ_BYTES = Number(process.env.OP_READ_BYTES) || 64 * 1024;

export interface Source {
  /** `stdin` or the path as given: the prefix of every error place. */
  name: string;
  /** Bytes, when the source is a regular file (for `--progress` percent). */
  size: number | undefined;
  stream: NodeJS.ReadableStream & { destroy(): void };
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
    return { name: spec, size: statSync(spec).size, stream: createReadStream(spec, { highWaterMark: readBytes }) };
  }
  const stat = fstatSync(0);
  if (stat.isFile()) {
    // A redirected file: read it with large reads instead of the 64 KiB of process.stdin.
    const stream: ReadStream = createReadStream('', { fd: 0, highWaterMark: readBytes, autoClose: false, start: 0 });
    return { name: 'stdin', size: stat.size, stream };
  }
  return { name: 'stdin', size: undefined, stream: process.stdin };
}

/** A source for the chunk reader: a descriptor for regular files (read straight into shared memory), else a stream. */
export interface ChunkSource {
  name: string;
  size: number | undefined;
  fd: number | undefined;
  stream: NodeJS.ReadableStream & { destroy(): void };
  close(): void;
}

/**
 * `readAhead`: read a regular file through a stream too, whose read-ahead overlaps the
 * next read with the work on this one (the main thread does both when the handler runs
 * inline); otherwise a file is read into the chunk buffers directly, with no copy.
 */
export function openChunkSource(spec: string, options: { readAhead: boolean }): ChunkSource {
  if (spec !== '-') {
    const fd = openSync(spec, 'r');
    const size = fstatSync(fd).size;
    if (options.readAhead) return { name: spec, size, fd: undefined, stream: createReadStream('', { fd, highWaterMark: READ_BYTES }), close: () => {} };
    return { name: spec, size, fd, stream: process.stdin, close: () => closeSync(fd) };
  }
  const stat = fstatSync(0);
  if (stat.isFile()) {
    if (options.readAhead) return { name: 'stdin', size: stat.size, fd: undefined, stream: createReadStream('', { fd: 0, highWaterMark: READ_BYTES, autoClose: false, start: 0 }), close: () => {} };
    return { name: 'stdin', size: stat.size, fd: 0, stream: process.stdin, close: () => {} };
  }
  return { name: 'stdin', size: undefined, fd: undefined, stream: process.stdin, close: () => {} };
}

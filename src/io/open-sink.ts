import { once } from 'node:events';
import { createWriteStream, openSync } from 'node:fs';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import { OpError, UsageError, describeCause } from '../core/errors.js';
import { fsReason } from './fs-reason.js';
import { untilWritten } from './until-written.js';

/**
 * Where output lines go. `write` returns a promise only when the consumer is slower than
 * us; that await is the backpressure that keeps memory flat behind a stalled reader.
 */
export interface Sink {
  /** Text or bytes (op shard and op merge route lines as bytes, never decoding them). */
  write(text: string | Uint8Array): Promise<void> | undefined;
  end(): Promise<void>;
  /** Resolves once buffered output is written, when there is a backlog; else undefined. */
  drain(): Promise<void> | undefined;
  /** Resolves once everything written so far reached the file or pipe (what a queue acks after); else undefined. */
  flush(): Promise<void> | undefined;
  /** True once the reader went away (EPIPE): further output is discarded. */
  readonly closed: boolean;
}

export interface SinkOptions {
  /** `w`, or `a` to append. */
  flag?: string;
  /** A write failed (not a closed pipe): stop taking input, the run has failed. */
  onFailed?: () => void;
  /**
   * The output must not be lost (dead letters): a closed pipe is a failure too, and the
   * lines that did not reach it are counted for the message, in this unit.
   */
  lossIsFailure?: { unit: string };
  /** How the sink is named in messages (default: its path, or stdout). */
  label?: string;
}

export function openSink(path: string | undefined, onClosed: () => void = () => {}, flagOrOptions: string | SinkOptions = 'w'): Sink {
  const options = typeof flagOrOptions === 'string' ? { flag: flagOrOptions } : flagOrOptions;
  const { stream, file } = openStream(path, options.flag ?? 'w');
  const gzip = stream === file ? undefined : (stream as Gzip);
  const label = options.label ?? (stream === process.stdout ? 'stdout' : stream === process.stderr ? 'stderr' : path!);
  const shared = stream === process.stdout || stream === process.stderr;
  // Taken now: a handler's own process.stdout.write is later sent to stderr (handler/guard-process.ts).
  // Stderr's is looked up at each write, so that a progress line shown meanwhile (io/status-line.ts) clears and redraws around it.
  const write = (stream === process.stderr ? (text, callback) => process.stderr.write(text, callback) : stream.write.bind(stream)) as (text: string | Uint8Array, callback?: (error?: Error | null) => void) => boolean;
  const counting = options.lossIsFailure !== undefined;
  let closed = false;
  let failure: OpError | undefined;
  let lost = 0;
  const onError = (error: NodeJS.ErrnoException): void => {
    const pipeClosed = error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
    if (closed) return;
    closed = true;
    // A closed pipe (`op … | head -1`) is the reader's choice, not our failure.
    if (pipeClosed && !counting) {
      onClosed();
      return;
    }
    // A file that failed is named by its path (`--errors` names the flag of a pipe that closed).
    failure = new OpError(`${pipeClosed || path === undefined ? label : path}: ${fsReason(error)}`, { cause: error });
    options.onFailed?.();
  };
  // The CLI framework rethrows stdout's errors (a stack trace); this sink reports them instead.
  if (stream === process.stdout) stream.removeAllListeners('error');
  stream.on('error', onError);
  // One 'close' listener for the life of the sink, not one per slow write; under gzip, the file's.
  const gone = new Promise<void>((resolve) => file.once('close', () => resolve()));
  // One wait for 'drain' (or the close) shared by every write behind it: dead letters
  // written as records finish are not awaited one by one, and a listener per write tripped
  // Node's MaxListenersExceededWarning after 10 of them.
  let waiting: Promise<void> | undefined;
  const drained = (): Promise<void> =>
    (waiting ??= Promise.race([
      // 'error' is handled above; once() rejects on it too.
      once(stream, 'drain').then(noop, noop),
      gone,
    ]).then(() => {
      waiting = undefined;
    }));
  /** With lossIsFailure: each write's lines are counted as lost unless the write completes. */
  const countLost = (text: string | Uint8Array) => (error: Error | null | undefined) => {
    if (error) lost += countLines(text);
  };
  return {
    get closed() {
      return closed;
    },
    write(text: string | Uint8Array) {
      if (text.length === 0) return undefined;
      if (closed) {
        if (counting) lost += countLines(text);
        return undefined;
      }
      let ready: boolean;
      try {
        ready = counting ? write(text, countLost(text)) : write(text);
      } catch (error) {
        // stdout redirected to a file writes synchronously, and throws where a stream would emit.
        onError(error as NodeJS.ErrnoException);
        return undefined;
      }
      if (ready) return undefined;
      return closed ? undefined : drained();
    },
    drain() {
      return closed || !stream.writableNeedDrain ? undefined : drained();
    },
    flush() {
      if (closed) return undefined;
      if (gzip) return Promise.race([flushGzip(gzip, file, () => closed), gone]);
      if (stream.writableLength === 0) return undefined;
      return Promise.race([untilWritten(stream), gone]);
    },
    async end() {
      if (!closed) {
        if (shared) {
          if (stream.writableNeedDrain) await drained();
        } else if (!stream.writableEnded) {
          stream.end();
          // Under gzip, finished once the file has the compressed end, not when gzip took the last write.
          await Promise.race([once(file, 'finish').catch(() => undefined), gone]);
        }
      }
      if (failure && counting && lost > 0) throw new OpError(`${failure.message}; ${lost} ${options.lossIsFailure!.unit} not written`, { cause: failure.cause });
      if (failure) throw failure;
    },
  };
}

function noop(): void {}

function countLines(text: string | Uint8Array): number {
  let n = 0;
  if (typeof text === 'string') for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  else for (let at = text.indexOf(10); at >= 0; at = text.indexOf(10, at + 1)) n++;
  return n;
}

type OutStream = NodeJS.WritableStream & { writableNeedDrain: boolean; writableEnded: boolean; writableLength: number };

/**
 * The process's own streams for `-`, /dev/stdout and /dev/stderr (opening those paths
 * fails when the descriptor is a socket); a file is opened now, so a bad path is reported
 * before any input is read. A path ending in `.gz` is written through gzip: `stream` takes
 * the lines, `file` is what reaches the disk (the same stream otherwise).
 */
function openStream(path: string | undefined, flag: string): { stream: OutStream; file: OutStream } {
  if (path === undefined || path === '-' || path === '/dev/stdout') return { stream: process.stdout, file: process.stdout };
  if (path === '/dev/stderr') return { stream: process.stderr, file: process.stderr };
  let fd: number;
  try {
    fd = openSync(path, flag);
  } catch (error) {
    throw new UsageError(`cannot open ${path} for writing: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const file = createWriteStream('', { fd });
  if (!path.endsWith('.gz')) return { stream: file, file };
  const gzip = createGzip();
  gzip.pipe(file);
  // A full disk or a closed pipe under gzip is the sink's error, as it would be without.
  file.on('error', (error) => gzip.destroy(error));
  return { stream: gzip, file };
}

/**
 * Everything written so far, compressed and on its way to the file (what a queue acks
 * after): a sync flush ends a deflate block at a byte boundary, so a reader gets all lines
 * so far; then the file stream's own queue is waited for.
 */
async function flushGzip(gzip: Gzip, file: OutStream, closed: () => boolean): Promise<void> {
  await new Promise<void>((resolve) => gzip.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
  // What the flush made may wait in gzip while the file is slower than us.
  while (gzip.readableLength > 0 && !closed()) await (file.writableNeedDrain ? once(file, 'drain') : new Promise((resolve) => setImmediate(resolve)));
  if (!closed()) await untilWritten(file);
}

/**
 * Ends a run's outputs. A write that failed on the way surfaces here, as the run's error
 * (undefined when everything reached its destination).
 */
export async function endOutputs(...outputs: Array<{ end(): Promise<void> } | undefined>): Promise<OpError | undefined> {
  let first: OpError | undefined;
  for (const output of outputs) {
    try {
      await output?.end();
    } catch (error) {
      first ??= error instanceof OpError ? error : new OpError(`cannot write output: ${describeCause(error)}`, { cause: error });
    }
  }
  return first;
}

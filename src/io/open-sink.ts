import { once } from 'node:events';
import { createWriteStream, openSync } from 'node:fs';
import { OpError, UsageError, describeCause } from '../core/errors.js';

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
  /** True once the reader went away (EPIPE): further output is discarded. */
  readonly closed: boolean;
}

export function openSink(path: string | undefined, onClosed: () => void = () => {}, flag = 'w'): Sink {
  const stream = openStream(path, flag);
  const shared = stream === process.stdout || stream === process.stderr;
  let closed = false;
  let failure: Error | undefined;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // A closed pipe (`op … | head -1`) is the reader's choice, not our failure.
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      if (!closed) {
        closed = true;
        onClosed();
      }
      return;
    }
    failure ??= error;
    closed = true;
    onClosed();
  });
  // One 'close' listener for the life of the sink, not one per slow write.
  const gone = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const drained = async (): Promise<void> => {
    try {
      await once(stream, 'drain');
    } catch {
      // 'error' is handled above; once() rejects on it too.
    }
  };
  return {
    get closed() {
      return closed;
    },
    write(text: string | Uint8Array) {
      if (closed || text.length === 0) return undefined;
      if (stream.write(text)) return undefined;
      return closed ? undefined : Promise.race([drained(), gone]);
    },
    drain() {
      return closed || !stream.writableNeedDrain ? undefined : Promise.race([drained(), gone]);
    },
    async end() {
      if (failure) throw failure;
      if (shared) {
        if (!closed && stream.writableNeedDrain) await drained();
        if (failure) throw failure;
        return;
      }
      if (!stream.writableEnded) {
        stream.end();
        await Promise.race([once(stream, 'finish').catch(() => undefined), gone]);
      }
      if (failure) throw failure;
    },
  };
}

/**
 * The process's own streams for `-`, /dev/stdout and /dev/stderr (opening those paths
 * fails when the descriptor is a socket); a file is opened now, so a bad path is reported
 * before any input is read.
 */
function openStream(path: string | undefined, flag: string): NodeJS.WritableStream & { writableNeedDrain: boolean; writableEnded: boolean } {
  if (path === undefined || path === '-' || path === '/dev/stdout') return process.stdout;
  if (path === '/dev/stderr') return process.stderr;
  let fd: number;
  try {
    fd = openSync(path, flag);
  } catch (error) {
    throw new UsageError(`cannot open ${path} for writing: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return createWriteStream('', { fd });
}

/**
 * Ends a run's outputs. A write that failed on the way surfaces here, as the run's error
 * (undefined when everything reached its destination).
 */
export async function endOutputs(...outputs: Array<{ end(): Promise<void> } | undefined>): Promise<OpError | undefined> {
  try {
    for (const output of outputs) await output?.end();
    return undefined;
  } catch (error) {
    return new OpError(`cannot write output: ${describeCause(error)}`, { cause: error });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { OpError, UsageError } from '../core/errors.js';
import { fsReason } from '../io/fs-reason.js';

/**
 * One destination of the stream. `write` returns a promise only while the destination is
 * behind; awaiting every copy's promise before the next read is what lets the slowest
 * copy set the pace.
 */
export interface Copy {
  readonly name: string;
  /** Set once the copy failed; it then takes no more bytes. */
  readonly failure: OpError | undefined;
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** Ends the copy and waits until it is complete (file closed, command exited). */
  end(): Promise<void>;
}

/** FILE, gzip-compressed when its name ends in .gz. Opened now: a bad path fails before any input is read. */
export function openFileCopy(path: string): Copy {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new UsageError(`cannot open ${path} for writing: ${fsReason(error)}`);
  }
  const file = createWriteStream('', { fd });
  if (!path.endsWith('.gz')) return streamCopy(path, file, file, once(file, 'close').then(() => undefined));
  const gzip = createGzip();
  // pipe() carries the file's backpressure back to the gzip stream, whose own write() then reports it.
  gzip.pipe(file);
  const copy = streamCopy(path, gzip, file, once(file, 'close').then(() => undefined));
  gzip.on('error', (error) => copy.fail(`${path}: ${fsReason(error)}`, error));
  return copy;
}

/**
 * A command, given as argv words, reading the stream on its stdin. Its stdout goes to our
 * stderr, so it never mixes into the stream we write; it never runs through a shell.
 */
export function openCommandCopy(argv: readonly string[], label: string, children: Set<ChildProcess>): Copy {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 2, 'inherit'] });
  children.add(child);
  let copy: StreamCopy | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      children.delete(child);
      const reason = error.code === 'ENOENT' ? 'command not found' : fsReason(error);
      copy?.fail(`${label}: ${reason}`, error);
      resolve();
    });
    child.on('exit', (status, signal) => {
      children.delete(child);
      if (status !== 0) copy?.fail(`${label}: ${signal ? `killed by ${signal}` : `exited with status ${status}`}`);
      else copy?.finishEarly();
      resolve();
    });
  });
  copy = streamCopy(label, child.stdin!, child.stdin!, exited);
  return copy;
}

interface StreamCopy extends Copy {
  fail(message: string, cause?: unknown): void;
  /** The reader went away on its own, and successfully: it takes no more bytes, and that is no failure. */
  finishEarly(): void;
}

function streamCopy(name: string, input: Writable, errors: NodeJS.EventEmitter, done: Promise<void>): StreamCopy {
  let failure: OpError | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const stopWaiting = new Promise<void>((resolve) => (wake = resolve));
  const copy: StreamCopy = {
    name,
    get failure() {
      return failure;
    },
    fail(message, cause) {
      failure ??= new OpError(message, { cause });
      finished = true;
      wake?.();
    },
    finishEarly() {
      finished = true;
      wake?.();
    },
    write(bytes) {
      if (finished || bytes.length === 0) return undefined;
      if (input.write(bytes)) return undefined;
      return Promise.race([once(input, 'drain').then(() => undefined, () => undefined), stopWaiting]);
    },
    async end() {
      if (!input.writableEnded && !input.destroyed) input.end();
      await done;
    },
  };
  const onError = (error: NodeJS.ErrnoException): void => {
    // A command that stopped reading: its exit status (seen on 'exit') decides whether that failed.
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      finished = true;
      wake?.();
      return;
    }
    copy.fail(`${name}: ${fsReason(error)}`, error);
  };
  input.on('error', onError);
  if (errors !== input) errors.on('error', onError);
  return copy;
}

import type { ChildProcess } from 'node:child_process';
import { OpError, describeCause } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { StopSignal } from '../engine/stop-signal.js';
import { openSource, readFailure } from '../io/open-source.js';
import { openSink } from '../io/open-sink.js';
import { refuseSameFile } from '../io/same-file.js';
import { type Copy, openCommandCopy, openFileCopy } from './open-copies.js';
import { splitWords } from '../io/split-words.js';

export interface TeeOptions {
  /** `--in` files, `-` for stdin; read in order. */
  inputs: string[];
  files: string[];
  /** `--to` command lines, split into argv words here. */
  commands: string[];
  ignoreErrors: boolean;
}

/** 64 KiB reads: with every copy awaited before the next read, this is all that is held behind a slow one. */
const READ_BYTES = 64 * 1024;

/**
 * Copies the input bytes to stdout, each FILE and each command. Each read waits until
 * every copy took the previous one, so memory stays at a read and the copies' pipe
 * buffers however slow one of them is. A copy that fails stops the run with its name
 * (status 1), unless `ignoreErrors`: then it is dropped with one warning.
 */
export async function runTee(options: TeeOptions): Promise<number> {
  const argvs = options.commands.map((line) => {
    const argv = splitWords(line, '--to');
    if (argv.length === 0) throw new OpError('--to needs a command', { exitCode: EXIT.usage });
    return argv;
  });
  refuseSameFile(options.inputs, [undefined, ...options.files]);
  const children = new Set<ChildProcess>();
  // Children never outlive op, even when a second signal exits at once.
  const killChildren = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.on('exit', killChildren);
  const stop = new StopSignal();
  const stdout = openSink(undefined);
  const copies: Copy[] = [{ name: 'stdout', failure: undefined, write: (bytes) => stdout.write(bytes), end: () => stdout.end() }];
  let failure: OpError | undefined;
  try {
    for (const file of options.files) copies.push(openFileCopy(file));
    for (const [k, argv] of argvs.entries()) copies.push(openCommandCopy(argv, `--to '${options.commands[k]}'`, children));
    failure = await copyInputs(options.inputs, copies, stop, () => stdout.closed, options.ignoreErrors);
  } catch (error) {
    failure = error instanceof OpError ? error : new OpError(`cannot copy: ${describeCause(error)}`, { cause: error });
  }
  for (const copy of copies) {
    try {
      await copy.end();
    } catch (error) {
      if (!stdout.closed) failure ??= error instanceof OpError ? error : new OpError(`${copy.name}: ${describeCause(error)}`, { cause: error });
    }
    failure ??= checkCopy(copy, options.ignoreErrors);
  }
  stop.dispose();
  process.off('exit', killChildren);
  if (failure) throw failure;
  return stop.exitCode ?? EXIT.ok;
}

async function copyInputs(inputs: string[], copies: Copy[], stop: StopSignal, stdoutClosed: () => boolean, ignoreErrors: boolean): Promise<OpError | undefined> {
  let midLine = false;
  for (const spec of inputs) {
    if (stop.stopped) return undefined;
    const source = openSource(spec, READ_BYTES);
    // A read blocked on a quiet pipe is cut short by a stop, unless a line is half copied.
    const release = stop.onStop(() => {
      if (!midLine) source.stream.destroy();
    });
    try {
      for await (const read of source.stream as AsyncIterable<Buffer>) {
        // After a stop only the rest of the line begun is copied: every copy ends on a whole line.
        const nl = stop.stopped ? read.indexOf(10) : -1;
        const bytes = nl < 0 ? read : read.subarray(0, nl + 1);
        if (bytes.length > 0) midLine = bytes[bytes.length - 1] !== 10;
        const waits = copies.map((copy) => copy.write(bytes)).filter((wait) => wait !== undefined);
        if (waits.length > 0) await Promise.all(waits);
        for (const copy of copies) {
          const failed = checkCopy(copy, ignoreErrors);
          if (failed) return failed;
        }
        if (stop.stopped && !midLine) return undefined;
        // Nobody reads any copy any more (stdout closed, and no other copy).
        if (copies.length === 1 && stdoutClosed()) return undefined;
      }
    } catch (error) {
      if (stop.stopped && !midLine) return undefined;
      return readFailure(source.name, error);
    } finally {
      release();
    }
  }
  return undefined;
}

const warned = new Set<Copy>();

/** The copy's failure, or (with --ignore-errors) one warning for it and nothing. */
function checkCopy(copy: Copy, ignoreErrors: boolean): OpError | undefined {
  if (copy.failure === undefined) return undefined;
  if (!ignoreErrors) return copy.failure;
  if (!warned.has(copy)) {
    warned.add(copy);
    process.stderr.write(`op tee: warning: ${copy.failure.message}; that copy is dropped\n`);
  }
  return undefined;
}

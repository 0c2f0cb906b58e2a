import type { Readable } from 'node:stream';
import type { Sink } from '../io/open-sink.js';
import { LineCutter, prefixLines } from '../io/line-cutter.js';

export interface LinePipe {
  /** Resolves once the stream ended and its last line was written. */
  readonly done: Promise<void>;
  /** Stops reading now (a process outside the group still holds the pipe) and writes the last line. */
  finish(): void;
  /** Milliseconds since the last byte arrived; 0 while the sink is behind (the stream is paused). */
  idleMs(): number;
}

/**
 * Copies one worker stream to a shared sink in whole lines, each prefixed with `prefix`
 * when there is one. Backpressure reaches the worker: while the sink is behind, this
 * stream is paused, the pipe fills, and the worker's write blocks; no memory piles up here.
 */
export function pipeLines(stream: Readable, sink: Sink, prefix: Buffer | undefined): LinePipe {
  const cutter = new LineCutter();
  let finished = false;
  let paused = false;
  let lastData = Date.now();
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const write = (lines: Buffer | undefined): void => {
    if (lines === undefined) return;
    const pending = sink.write(prefix === undefined ? lines : prefixLines(lines, prefix));
    if (pending === undefined) return;
    stream.pause();
    paused = true;
    void pending.then(() => {
      paused = false;
      lastData = Date.now();
      if (!finished) stream.resume();
    });
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    stream.off('data', onData);
    write(cutter.end());
    resolveDone();
  };
  const onData = (chunk: Buffer): void => {
    lastData = Date.now();
    write(cutter.push(chunk));
  };
  stream.on('data', onData);
  // 'close' follows 'end', and also comes alone when the stream is destroyed.
  stream.once('close', finish);
  stream.on('error', () => {});
  return {
    done,
    finish() {
      finish();
      stream.destroy();
    },
    idleMs() {
      return paused ? 0 : Date.now() - lastData;
    },
  };
}

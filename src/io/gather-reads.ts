import type { Readable } from 'node:stream';

/** A read shorter than this emptied the pipe: reading rests a moment so that replies gather. */
const SHORT_READ = 16 * 1024;
/** How long reading rests after a short read. */
const REST_MS = 1;

/** The part of Node's pipe handle that starts and stops reading (what `socket.pause()` uses under `onread`). */
interface ReadHandle {
  reading?: boolean;
  readStart?: () => number;
  readStop?: () => number;
}

/**
 * Calls `onData` with what a child writes to `stream` (its stdout pipe), reading in batches.
 * A line-at-a-time writer (a Python child under PYTHONUNBUFFERED, `jq --unbuffered`) makes
 * one write(2) per reply; read as it comes, each write wakes op for one line, which costs
 * the child a wake-up per line and op a read and a callback per line. After a short read,
 * reading stops for REST_MS (the pipe holds 64 KiB meanwhile; a writer that fills it waits
 * for the rest to end), so one read takes what gathered. Measured with a Python pass-through
 * over 200,000 records: ~3,200 reads instead of ~200,000, and the child's system time 0.2 s
 * instead of 0.8 s. A stream without a pipe handle is read as it comes.
 */
export function gatherReads(stream: Readable, onData: (chunk: Buffer) => void): () => void {
  const handle = (stream as unknown as { _handle?: ReadHandle })._handle;
  const canRest = typeof handle?.readStop === 'function' && typeof handle.readStart === 'function';
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const wake = (): void => {
    timer = undefined;
    // Node stopped reading meanwhile itself (backpressure): it starts again itself.
    if (stopped || stream.destroyed || !handle!.reading) return;
    handle!.readStart!();
  };
  stream.on('data', (chunk: Buffer) => {
    onData(chunk);
    if (!canRest || stopped || timer !== undefined || chunk.length >= SHORT_READ || stream.destroyed || !handle!.reading) return;
    // `reading` stays true: Node would otherwise start reading again as soon as this returns.
    handle!.readStop!();
    // Referenced: a pipe that is not being read does not keep the process alive.
    timer = setTimeout(wake, REST_MS);
  });
  /** Ends the batching (the owner stops listening): reading goes on as it comes. */
  return () => {
    stopped = true;
    if (timer === undefined) return;
    clearTimeout(timer);
    timer = undefined;
    if (!stream.destroyed && handle!.reading) handle!.readStart!();
  };
}

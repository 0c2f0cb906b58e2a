import { RecordError } from '../core/errors.js';
import { openSource, readFailure } from './open-source.js';

/** What routes one source's bytes to its outputs (op shard's routers, op merge's concatenation). */
export interface SourceRouter {
  /** Part of a record is routed and its end is not yet: a stop reads on to it. */
  readonly midLine: boolean;
  startSource(name: string): void;
  push(buf: Buffer): void;
  endSource(): void;
}

/** A stop (SIGINT, SIGTERM): whether it came, and a way to cut a blocked read short. */
export interface RouteStop {
  readonly stopped: boolean;
  /** Runs `listener` on the stop; returns a function that removes it. */
  onStop(listener: () => void): () => void;
}

export interface RouteTarget {
  /** Writes what the router has taken in so far. */
  flush(): Promise<void>;
  /** Nobody reads the output any more. */
  readonly closed: boolean;
}

/**
 * One input through `router`. A stop ends it on a line boundary: a line already begun (long
 * lines stream piece by piece) is read to its end, a line not begun is not written, and the
 * source's unfinished last line is not completed. Whole lines routed before a failure are
 * written before it is reported.
 */
export async function routeSource(spec: string, readBytes: number | undefined, router: SourceRouter, stop: RouteStop, target: RouteTarget): Promise<void> {
  const source = openSource(spec, readBytes);
  router.startSource(source.name);
  // A read blocked on a quiet pipe is cut short, unless a line is half written.
  const release = stop.onStop(() => {
    if (!router.midLine) source.stream.destroy();
  });
  const reads = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await reads.next();
      if (next.done) break;
      // After a stop only the rest of the line begun is routed, not the lines after it.
      const nl = stop.stopped ? next.value.indexOf(10) : -1;
      router.push(nl < 0 ? next.value : next.value.subarray(0, nl + 1));
      await target.flush();
      // Nobody reads our output any more, or a stop came and every line out is whole.
      if (target.closed || (stop.stopped && !router.midLine)) return;
    }
    router.endSource();
  } catch (error) {
    if (error instanceof RecordError) throw error;
    if (stop.stopped && !router.midLine) return;
    throw readFailure(source.name, error);
  } finally {
    release();
    await reads.return?.();
    if (!target.closed) await target.flush();
  }
}

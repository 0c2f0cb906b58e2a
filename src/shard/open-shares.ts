import { openSink, type Sink } from '../io/open-sink.js';

/** The outputs of `op shard`: one (this rank's share) or, with `--split`, one per rank. */
export interface Shares {
  /** Writes each share's output of one read; resolves when every slow sink has drained. */
  write(outs: ReadonlyArray<string | Buffer | undefined>): Promise<void>;
  end(): Promise<void>;
  /** Every reader went away (`op shard … | head -1`): stop reading. */
  readonly closed: boolean;
}

export function openShares(paths: ReadonlyArray<string | undefined>): Shares {
  const sinks: Sink[] = paths.map((path) => openSink(path));
  return {
    get closed() {
      return sinks.every((sink) => sink.closed);
    },
    async write(outs) {
      let waits: Array<Promise<void>> | undefined;
      for (let share = 0; share < sinks.length; share++) {
        const out = outs[share];
        if (out === undefined) continue;
        const wait = (sinks[share] as Sink).write(out);
        if (wait) {
          waits ??= [];
          waits.push(wait);
        }
      }
      // Backpressure: the next read waits for every share that is behind.
      if (waits) await Promise.all(waits);
    },
    async end() {
      let failure: unknown;
      for (const sink of sinks) {
        try {
          await sink.end();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw failure;
    },
  };
}

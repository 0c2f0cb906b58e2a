import { OpError, RecordError, describeCause } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { checkInputs, openSource } from '../io/open-source.js';
import { endOutputs } from '../io/open-sink.js';
import { openShares, type Shares } from './open-shares.js';
import { IndexRouter } from './route-by-index.js';
import { RecordRouter } from './route-records.js';
import { shareOfRank } from './share-buffers.js';

export interface ShardOptions {
  inputs: string[];
  /** This rank's share: stdout or `--out` (already filled in). Unused with `split`. */
  output: string | undefined;
  /** `--split TEMPLATE`: every share at once, to files named by `{rank}`. */
  split: string | undefined;
  /** The rank kept; unused with `split`. */
  rank: number;
  world: number;
  /** `--by key:FIELD`; undefined: `--by index`. */
  key: string | undefined;
  seq: string | undefined;
}

interface Router {
  startSource(name: string): void;
  push(buf: Buffer): void;
  endSource(): void;
  take(): Array<string | Buffer | undefined>;
}

/**
 * 1 MiB reads on the byte path, where nothing is decoded and the per-read costs (an await,
 * a write) are what remains: 175 MB in 0.28 s against 0.47 s with 64 KiB reads, start-up
 * included (1M records, world 1 and 2; 256 KiB was noisier, 4 MiB no faster).
 */
const BYTE_READ = 1024 * 1024;

/** Routes every input record to its share. Resolves to the exit status, or throws the failure. */
export async function runShard(options: ShardOptions): Promise<number> {
  checkInputs(options.inputs);
  const { world } = options;
  const ranks = options.split === undefined ? [options.rank] : Array.from({ length: world }, (_, rank) => rank);
  const paths = options.split === undefined ? [options.output] : ranks.map((rank) => fillRankTemplate(options.split as string, { rank, world }));
  const shares = openShares(paths);
  const shareOf = shareOfRank(world, ranks);
  const parses = options.key !== undefined || options.seq !== undefined;
  const router: Router = parses ? new RecordRouter({ world, shareOf, shares: ranks.length, key: options.key, seq: options.seq }) : new IndexRouter(world, shareOf, ranks.length);
  let failure: unknown;
  try {
    for (const spec of options.inputs) {
      await routeSource(spec, router, shares, parses ? undefined : BYTE_READ);
      if (shares.closed) break;
    }
  } catch (error) {
    failure = error;
  }
  failure ??= await endOutputs(shares);
  if (failure !== undefined) throw failure;
  return EXIT.ok;
}

async function routeSource(spec: string, router: Router, shares: Shares, readBytes: number | undefined): Promise<void> {
  const source = openSource(spec, readBytes);
  router.startSource(source.name);
  try {
    for await (const buf of source.stream as AsyncIterable<Buffer>) {
      router.push(buf);
      await shares.write(router.take());
      // Leaving the loop destroys the stream: nobody reads our output any more.
      if (shares.closed) return;
    }
    router.endSource();
  } catch (error) {
    if (error instanceof RecordError) throw error;
    throw new OpError(`${source.name}: cannot read: ${describeCause(error)}`, { cause: error });
  } finally {
    // Whole lines routed before a bad one are written before it is reported.
    await shares.write(router.take());
  }
}

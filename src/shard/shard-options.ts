import { UsageError } from '../core/errors.js';
import { fillRankTemplate, hasRankPlaceholder } from '../io/fill-template.js';
import { resolveRank } from '../core/resolve-rank.js';
import type { ShardOptions } from './run-shard.js';

/** The flags `op shard` parses (commands/shard.ts). */
export interface ShardFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  rank?: number | undefined;
  world?: number | undefined;
  by: string;
  split?: string | undefined;
  seq?: string | undefined;
}

/** Flags and environment → the options of runShard; every mistake is a one-line usage error. */
export function shardOptions(flags: ShardFlags, env: NodeJS.ProcessEnv): ShardOptions {
  const key = parseBy(flags.by);
  const inputs = flags.in?.length ? flags.in : ['-'];
  const base = { inputs, key, seq: checkField(flags.seq, '--seq') };
  if (flags.split !== undefined) {
    if (flags.rank !== undefined) throw new UsageError('--split writes every rank at once: drop --rank');
    if (flags.out !== undefined) throw new UsageError('--split names the outputs itself: drop --out');
    if (flags.world === undefined) throw new UsageError('--split needs --world M');
    if (flags.world < 1) throw new UsageError(`world size must be at least 1, got ${flags.world}`);
    if (!hasRankPlaceholder(flags.split)) throw new UsageError(`--split ${flags.split}: the template needs {rank}, or every share goes to one file`);
    return { ...base, output: undefined, split: flags.split, rank: 0, world: flags.world };
  }
  const { rank, world } = resolveRank(flags, env, { required: true });
  return { ...base, output: fillRankTemplate(flags.out, { rank, world }), split: undefined, rank, world };
}

function parseBy(by: string): string | undefined {
  if (by === 'index') return undefined;
  if (by.startsWith('key:')) return checkField(by.slice(4), '--by key:');
  throw new UsageError(`--by ${by}: expected index or key:FIELD`);
}

function checkField(field: string | undefined, flag: string): string | undefined {
  if (field === '') throw new UsageError(`${flag} needs a field name`);
  return field;
}

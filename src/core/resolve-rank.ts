import { UsageError } from './errors.js';

export interface RankWorld {
  rank: number;
  world: number;
  /** Where the rank came from: `--rank`, an environment variable, or `default`. */
  from: string;
}

/** Launchers' rank/world variables, first found wins (DESIGN.md section 5). */
const FAMILIES: Array<[rank: string, world: string]> = [
  ['OP_RANK', 'OP_WORLD_SIZE'],
  ['SDRUN_RANK', 'SDRUN_WORLD_SIZE'],
  ['RANK', 'WORLD_SIZE'],
  ['SLURM_PROCID', 'SLURM_NTASKS'],
];

/**
 * Rank and world from flags, else the environment. `required`: a missing rank is a usage
 * error (op shard); otherwise a single process is rank 0 of 1 (ctx.rank for op map).
 */
export function resolveRank(flags: { rank?: number | undefined; world?: number | undefined }, env: NodeJS.ProcessEnv, options: { required: boolean }): RankWorld {
  let rank = flags.rank;
  let world = flags.world;
  let from = flags.rank === undefined ? 'default' : '--rank';
  if (rank === undefined) {
    for (const [rankVar, worldVar] of FAMILIES) {
      if (env[rankVar] === undefined || env[rankVar] === '') continue;
      rank = parseCount(env[rankVar], rankVar);
      world ??= env[worldVar] === undefined || env[worldVar] === '' ? undefined : parseCount(env[worldVar], worldVar);
      from = rankVar;
      break;
    }
  }
  if (rank === undefined && env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '') {
    rank = parseCount(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX');
    world ??= env.OP_WORLD_SIZE ? parseCount(env.OP_WORLD_SIZE, 'OP_WORLD_SIZE') : undefined;
    from = 'JOB_COMPLETION_INDEX';
  }
  if (rank === undefined) {
    if (options.required) throw new UsageError('no rank: pass --rank N --world M, or set OP_RANK/OP_WORLD_SIZE (or RANK/WORLD_SIZE, SLURM_PROCID/SLURM_NTASKS, JOB_COMPLETION_INDEX)');
    return { rank: 0, world: world ?? 1, from };
  }
  if (world === undefined) throw new UsageError(`rank ${rank} (from ${from}) but no world size: pass --world M or set the matching *_WORLD_SIZE`);
  if (world < 1) throw new UsageError(`world size must be at least 1, got ${world}`);
  if (rank >= world) throw new UsageError(`rank ${rank} is not below world size ${world} (ranks are 0-based)`);
  return { rank, world, from };
}

function parseCount(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text ?? '') || !Number.isSafeInteger(value)) throw new UsageError(`${name}=${JSON.stringify(text)} is not a whole number`);
  return value;
}

/** Who one worker is among all workers on all hosts. */
export interface WorkerPlace {
  /** Global rank: node rank × workers per node + local rank. */
  rank: number;
  localRank: number;
  world: number;
  localWorld: number;
}

export function placeOf(localRank: number, workers: number, nodes: number, nodeRank: number): WorkerPlace {
  return { rank: nodeRank * workers + localRank, localRank, world: nodes * workers, localWorld: workers };
}

/** `out-{rank}.ndjson` → `out-5.ndjson`; also {local_rank} and {world}. */
export function fillWorkerTemplate(template: string, place: WorkerPlace): string {
  return template.replaceAll('{rank}', String(place.rank)).replaceAll('{local_rank}', String(place.localRank)).replaceAll('{world}', String(place.world));
}

/**
 * The environment of one worker generation: ours, and sdrun's names so that operators
 * written for it run unchanged. OP_RANK comes first in every op command's rank lookup, so
 * `op shard` inside a worker needs no flags, whatever RANK or SLURM_PROCID the host set.
 */
export function workerEnv(base: NodeJS.ProcessEnv, place: WorkerPlace, restarts: number): NodeJS.ProcessEnv {
  return {
    ...base,
    OP_RANK: String(place.rank),
    OP_LOCAL_RANK: String(place.localRank),
    OP_WORLD_SIZE: String(place.world),
    OP_LOCAL_WORLD_SIZE: String(place.localWorld),
    OP_RESTART_COUNT: String(restarts),
    SDRUN_MODE: 'true',
    SDRUN_RANK: String(place.rank),
    SDRUN_LOCAL_RANK: String(place.localRank),
    SDRUN_WORLD_SIZE: String(place.world),
  };
}

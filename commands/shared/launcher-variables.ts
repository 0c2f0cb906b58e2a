/**
 * Launchers' rank and world variables, in the order op reads them (the first rank found
 * wins; src/core/resolve-rank.ts). The one source for op shard's help, the man pages and
 * the README.
 */
export const LAUNCHER_VARIABLES: ReadonlyArray<{ names: readonly string[]; text: string }> = [
  { names: ['OP_RANK', 'OP_WORLD_SIZE'], text: "This process's 0-based rank and the number of ranks, as ctx.rank and ctx.world and in the {rank} and {world} of --out. Read first." },
  { names: ['SDRUN_RANK', 'SDRUN_WORLD_SIZE'], text: 'Read when OP_RANK is unset.' },
  { names: ['RANK', 'WORLD_SIZE'], text: 'As set by torchrun-style launchers; read next.' },
  { names: ['SLURM_PROCID', 'SLURM_NTASKS'], text: 'As set by Slurm; read next.' },
  { names: ['JOB_COMPLETION_INDEX'], text: "A Kubernetes indexed job's rank, read last; the world comes from --world or OP_WORLD_SIZE." },
];

/** `OP_RANK/OP_WORLD_SIZE, …, JOB_COMPLETION_INDEX`, for a sentence. */
export function listLauncherVariables(): string {
  return LAUNCHER_VARIABLES.map(({ names }) => names.join('/')).join(', ');
}

/** The placeholders every `--out` (and `op shard --split`) may hold. */
export interface RankPlaceholders {
  rank: number;
  world: number;
}

/**
 * `part-{rank}-of-{world}.ndjson` → `part-3-of-8.ndjson`. Every occurrence is filled; any
 * other brace text is left as written, so a path that happens to hold `{x}` still works.
 */
export function fillRankTemplate(path: string, values: RankPlaceholders): string;
export function fillRankTemplate(path: string | undefined, values: RankPlaceholders): string | undefined;
export function fillRankTemplate(path: string | undefined, values: RankPlaceholders): string | undefined {
  if (path === undefined) return undefined;
  return path.replaceAll('{rank}', String(values.rank)).replaceAll('{world}', String(values.world));
}

/** True when `path` names a file per rank (op shard --split needs one). */
export function hasRankPlaceholder(path: string): boolean {
  return path.includes('{rank}');
}

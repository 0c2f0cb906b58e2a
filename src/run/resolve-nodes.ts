import { UsageError } from '../core/errors.js';

export interface NodePlace {
  /** Hosts taking part; the world is nodes × workers per host. */
  nodes: number;
  /** This host's 0-based place among them. */
  nodeRank: number;
  /** Where the node rank came from: a flag, an environment variable, or `default`. */
  from: string;
}

/** Launchers that span hosts, first found wins: Slurm, then torchrun's names. */
const FAMILIES: Array<[rank: string, count: string]> = [
  ['SLURM_NODEID', 'SLURM_NNODES'],
  ['NODE_RANK', 'NNODES'],
];

/**
 * This host's place from --nodes/--node-rank, else the environment. A single host is node
 * 0 of 1; naming several hosts without saying which one this is would give two hosts the
 * same ranks, so it is a usage error.
 */
export function resolveNodes(flags: { nodes?: number | undefined; nodeRank?: number | undefined }, env: NodeJS.ProcessEnv): NodePlace {
  let nodes = flags.nodes;
  let nodeRank = flags.nodeRank;
  let from = nodeRank === undefined ? 'default' : '--node-rank';
  const family = FAMILIES.find(([rankVar, countVar]) => isSet(env[rankVar]) || isSet(env[countVar]));
  if (family !== undefined) {
    const [rankVar, countVar] = family;
    if (nodeRank === undefined && isSet(env[rankVar])) {
      nodeRank = parseWhole(env[rankVar], rankVar);
      from = rankVar;
    }
    if (nodes === undefined && isSet(env[countVar])) nodes = parseWhole(env[countVar], countVar);
  }
  nodes ??= 1;
  if (nodes < 1) throw new UsageError(`the number of nodes must be at least 1, got ${nodes}`);
  if (nodeRank === undefined) {
    if (nodes > 1) throw new UsageError(`${nodes} nodes but no node rank: pass --node-rank K, or set SLURM_NODEID or NODE_RANK`);
    nodeRank = 0;
  }
  if (nodeRank >= nodes) throw new UsageError(`node rank ${nodeRank} (from ${from}) is not below the number of nodes ${nodes} (node ranks are 0-based)`);
  return { nodes, nodeRank, from };
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function parseWhole(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text ?? '') || !Number.isSafeInteger(value)) throw new UsageError(`${name}=${JSON.stringify(text)} is not a whole number`);
  return value;
}

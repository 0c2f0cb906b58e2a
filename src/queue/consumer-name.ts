import { hostname } from 'node:os';

/**
 * `host:pid:rank`: unique among live consumers, and it tells `op queue stats` which
 * process on which machine holds an entry. A restarted process gets a new name; what the
 * old one held is claimed after the visibility timeout.
 */
export function consumerName(rank: number, pid = process.pid): string {
  return `${hostname()}:${pid}:${rank}`;
}

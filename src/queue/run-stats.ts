import { EXIT } from '../core/exit-codes.js';
import { commandFailed, connectQueue } from './connect-queue.js';
import { parseQueueUrl } from './queue-url.js';
import type { RedisLink } from './redis-client.js';
import { fieldOf } from './stream-replies.js';
import { msOfId } from './stream-id.js';

export interface StatsOptions {
  queue: string;
  group: string;
}

/** One line of `op queue stats`. */
export interface QueueStats {
  queue: string;
  group: string;
  /** Entries in :in, acked ones included until `op queue trim`. */
  length: number;
  /** Delivered to a consumer of the group and not acked yet. */
  pending: number;
  /** Entries the group has read (XINFO GROUPS entries-read); null when Redis cannot tell. */
  delivered: number | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (after XDEL). */
  lag: number | null;
  dead: number;
  /** Entries in :out. */
  out: number;
  /** How long ago the oldest pending entry was added, by the server's clock. */
  oldestPendingAgeMs: number | null;
  consumers: Array<{ name: string; pending: number; idleMs: number }>;
}

export async function runQueueStats(options: StatsOptions): Promise<number> {
  const address = parseQueueUrl(options.queue);
  const link = await connectQueue(address, 'op-queue-stats');
  try {
    process.stdout.write(JSON.stringify(await readStats(link, address.keys, address.name, options.group)) + '\n');
  } catch (error) {
    throw commandFailed(address, 'stats', error);
  } finally {
    await link.close();
  }
  return EXIT.ok;
}

export async function readStats(link: RedisLink, keys: { in: string; out: string; dead: string }, queue: string, group: string): Promise<QueueStats> {
  const [time, length, out, dead, exists] = await Promise.all([
    link.send<[string, string]>(['TIME']),
    link.send<number>(['XLEN', keys.in]),
    link.send<number>(['XLEN', keys.out]),
    link.send<number>(['XLEN', keys.dead]),
    link.send<number>(['EXISTS', keys.in]),
  ]);
  const stats: QueueStats = { queue, group, length, pending: 0, delivered: 0, lag: length, dead, out, oldestPendingAgeMs: null, consumers: [] };
  if (!exists) return stats;
  const groups = await link.send<unknown[][]>(['XINFO', 'GROUPS', keys.in]);
  const info = groups.find((flat) => fieldOf(flat, 'name') === group);
  if (!info) return stats;
  stats.pending = Number(fieldOf(info, 'pending'));
  stats.delivered = nullableNumber(fieldOf(info, 'entries-read'));
  stats.lag = nullableNumber(fieldOf(info, 'lag'));
  const [consumers, oldest] = await Promise.all([
    link.send<unknown[][]>(['XINFO', 'CONSUMERS', keys.in, group]),
    link.send<Array<[string, string, number, number]>>(['XPENDING', keys.in, group, '-', '+', '1']),
  ]);
  stats.consumers = consumers.map((flat) => ({ name: String(fieldOf(flat, 'name')), pending: Number(fieldOf(flat, 'pending')), idleMs: Number(fieldOf(flat, 'idle')) }));
  const oldestId = oldest[0]?.[0];
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  if (oldestId !== undefined) stats.oldestPendingAgeMs = Math.max(0, nowMs - msOfId(oldestId));
  return stats;
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

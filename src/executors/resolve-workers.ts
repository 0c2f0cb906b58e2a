import { availableParallelism, totalmem } from 'node:os';
import { UsageError } from '../core/errors.js';

/**
 * Threads per core at most. Past the cores, more threads help only a handler that blocks
 * its thread (synchronous I/O); waiting on promises is --concurrency's job. Each thread
 * also costs start-up: 2,000 records took 0.5 s at -w 1, 1.5 s at -w 8, 5.7 s at -w 32 and
 * 14 s at -w 128 on 2 cores, and -w 1000 outran the 10 s teardown limit (threads.ts).
 */
export const THREADS_PER_CORE = 4;
/**
 * Memory per thread at least: an idle worker costs about 10 MB of RSS (76 MB at -w 1,
 * 157 MB at -w 8, 430 MB at -w 32, 1 GB at -w 128), its young generation may take 16 MB
 * more (threads.ts), and the handler's own heap comes on top. -w 5000 asked V8 for about
 * 12 GB and crashed the process.
 */
export const BYTES_PER_THREAD = 64 * 1024 * 1024;

/**
 * `--workers N|auto` as a count; auto is one worker per core the process may use. A count
 * above the bound (maxWorkers) is capped to it, and `warn` says so once.
 */
export function resolveWorkers(value: string, warn: (message: string) => void = () => {}): number {
  const n = value === 'auto' ? availableParallelism() : Number(value);
  if (value !== 'auto' && (!/^\d+$/.test(value) || n < 1)) throw new UsageError(`--workers takes a positive whole number or auto, got ${JSON.stringify(value)}`);
  const bound = maxWorkers();
  if (n <= bound.max) return n;
  warn(`-w ${value} capped to ${bound.max} (${bound.reason})`);
  return bound.max;
}

/** The most threads a run starts: THREADS_PER_CORE per core, and one per BYTES_PER_THREAD of the memory the process may use; at least 1. */
export function maxWorkers(cores = availableParallelism(), memory = usableMemory()): { max: number; reason: string } {
  const byCores = THREADS_PER_CORE * cores;
  const byMemory = Math.floor(memory / BYTES_PER_THREAD);
  if (byCores <= byMemory) return { max: byCores, reason: `at most ${THREADS_PER_CORE} threads per core, ${cores} core${cores === 1 ? '' : 's'}` };
  return { max: Math.max(1, byMemory), reason: `at most one thread per ${BYTES_PER_THREAD / 2 ** 20} MiB of memory, ${(memory / 2 ** 30).toFixed(1)} GiB` };
}

/** The machine's memory, or the container's limit (cgroup) when it is lower. */
function usableMemory(): number {
  const total = totalmem();
  // 0 where no limit is known; a huge number where the cgroup sets none.
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 ? Math.min(limit, total) : total;
}

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { HeartbeatData } from './heartbeat-worker.js';

export interface Heartbeat {
  stop(): Promise<void>;
}

const WORKER_FILE = new URL('../queue/heartbeat-worker.js', import.meta.url);
/**
 * The thread sends one small script every visibility/3 and keeps no data: V8's default
 * heap sizes left it ~14 MiB more resident than these (an idle consumer 149 -> 135 MiB).
 */
const HEAP_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

/**
 * Starts the heartbeat thread and waits until it is connected. It never keeps the process
 * alive by itself (unref), and it dies with the process, so a killed consumer stops
 * extending its entries and they are claimed after the visibility timeout.
 */
export async function startHeartbeat(data: HeartbeatData): Promise<Heartbeat> {
  const worker = new Worker(WORKER_FILE, { workerData: data, resourceLimits: HEAP_LIMITS });
  worker.unref();
  const failed = once(worker, 'error').then(([error]) => {
    throw error as Error;
  });
  await Promise.race([once(worker, 'message'), failed]);
  failed.catch(() => undefined);
  return {
    async stop() {
      const exited = once(worker, 'exit');
      worker.postMessage('stop');
      // Its link quits within a round trip; a thread stuck on a dead server is cut off.
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { HeartbeatData } from './heartbeat-worker.js';

export interface Heartbeat {
  stop(): Promise<void>;
}

const WORKER_FILE = new URL('./heartbeat-worker.js', import.meta.url);

/**
 * Starts the heartbeat thread and waits until it is connected. It never keeps the process
 * alive by itself (unref), and it dies with the process, so a killed consumer stops
 * extending its entries and they are claimed after the visibility timeout.
 */
export async function startHeartbeat(data: HeartbeatData): Promise<Heartbeat> {
  const worker = new Worker(WORKER_FILE, { workerData: data });
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

import { parentPort, workerData } from 'node:worker_threads';
import { openLink } from './redis-client.js';
import { HEARTBEAT } from './scripts.js';

export interface HeartbeatData {
  server: string;
  stream: string;
  group: string;
  consumer: string;
  everyMs: number;
}

/** The most entries one beat extends; a consumer holds its batches in flight, far fewer. */
const MAX_ENTRIES = 100_000;

/**
 * The heartbeat's own thread and connection. A handler that keeps the main thread busy
 * (a synchronous loop, a long JSON.parse) stops every timer there; this thread's timer
 * still fires, so a long record is not claimed by another consumer while its own lives.
 */
const data = workerData as HeartbeatData;
const link = await openLink({ url: data.server, reconnect: true, name: `${data.consumer}:heartbeat` });
let beating = false;
const timer = setInterval(() => {
  // A beat still waiting on a lost connection is not doubled up.
  if (beating) return;
  beating = true;
  link
    .run(HEARTBEAT, [data.stream], [data.group, data.consumer, String(MAX_ENTRIES)])
    .catch(() => undefined)
    .finally(() => {
      beating = false;
    });
}, data.everyMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  void link.close().then(() => parentPort?.close());
});
parentPort?.postMessage('ready');

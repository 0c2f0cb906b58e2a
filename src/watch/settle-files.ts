import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameVersion, versionOf, type FileVersion } from './file-version.js';

/** The file's version now, or undefined when it is gone or not a regular file. */
export async function statVersion(path: string): Promise<FileVersion | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? versionOf(stats) : undefined;
  } catch {
    return undefined;
  }
}

/** statVersion without an await, for the last look right before a run is started. */
export function statVersionNow(path: string): FileVersion | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? versionOf(stats) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Files found on start may still be being written (chokidar waits for writes only after
 * its first scan). Calls `ready` for each, in the given order, once its version held for
 * `settleMs`; files that vanish are dropped. Stops early when `signal` aborts.
 */
export async function settleFiles(paths: string[], settleMs: number, ready: (path: string) => void, signal: AbortSignal): Promise<void> {
  let waiting = await Promise.all(paths.map(async (path) => ({ path, version: await statVersion(path) })));
  while (waiting.length > 0 && !signal.aborted) {
    if (settleMs > 0) await sleep(settleMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    const now = await Promise.all(waiting.map(async ({ path }) => ({ path, version: await statVersion(path) })));
    const still: typeof waiting = [];
    now.forEach((entry, i) => {
      if (entry.version === undefined) return;
      if (isSameVersion(entry.version, waiting[i]?.version)) ready(entry.path);
      else still.push(entry);
    });
    waiting = still;
  }
}

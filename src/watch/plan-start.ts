import { resolve } from 'node:path';
import type { WatchEvent } from './expand-placeholders.js';
import { isSameVersion } from './file-version.js';
import type { PathFilter } from './ignore-rules.js';
import type { ProcessedFiles } from './processed-files.js';
import { positionAtEnd } from './records-tail.js';
import { statVersion } from './settle-files.js';
import type { WatchOptions } from './watch-options.js';

export interface StartItem {
  path: string;
  event: WatchEvent;
}

/**
 * Which of the files found on start are processed. With --state: those new, changed, failed
 * or unfinished since it was written (no state file yet: all of them). With --initial: all.
 * Otherwise none: they count as seen, and with --records only lines appended later stream.
 * Entries for files that are gone are dropped from the state.
 */
export async function planStart(existing: string[], options: WatchOptions, processed: ProcessedFiles, filter: PathFilter): Promise<StartItem[]> {
  const items: StartItem[] = [];
  const found = new Set<string>();
  // Natural order, so a backlog out.1, out.2, …, out.10 is processed in the order it was made.
  const sorted = [...existing].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const path of sorted) {
    const version = await statVersion(path);
    if (version === undefined) continue;
    found.add(resolve(path));
    if (options.state !== undefined) {
      if (processed.isDone(path, version)) continue;
      const entry = processed.entry(path);
      items.push({ path, event: entry === undefined ? 'add' : isSameVersion(entry, version) ? entry.event : 'change' });
    } else if (options.initial) {
      items.push({ path, event: 'add' });
    } else if (options.mode === 'records') {
      const position = await positionAtEnd(path).catch(() => undefined);
      if (position !== undefined) processed.finish(path, 'add', version, 'ok', { attempts: 0, final: true, position });
    } else {
      processed.markDone(path, version);
    }
  }
  for (const key of processed.state.keys()) {
    if (!found.has(key) && filter.relativePath(key) !== undefined) processed.state.delete(key);
  }
  return items;
}

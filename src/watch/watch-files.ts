import { watch, type FSWatcher } from 'chokidar';
import type { WatchEvent } from './expand-placeholders.js';
import type { PathFilter } from './ignore-rules.js';

export interface FileWatcherOptions {
  dirs: string[];
  /** Levels of subdirectories to descend into; 0 watches DIR's own files only. */
  depth: number;
  filter: PathFilter;
  /** How long a file's size must stay the same before it counts as written. */
  settleMs: number;
  /** Quiet time per path after it settled, so a burst of saves gives one event. */
  debounceMs: number;
}

export interface FileWatcherHandlers {
  /** A file whose writes settled: new (`add`) or another version of one seen (`change`). */
  file(path: string, event: WatchEvent): void;
  unlink(path: string): void;
  error(error: Error): void;
}

/**
 * chokidar, narrowed to what op watch needs: settled, debounced file events under the
 * watched directories. Editors' rename-on-save (unlink + add within 100 ms) arrives as one
 * `change` (chokidar's `atomic`); a file still being written is held back until its size
 * stops changing (`awaitWriteFinish`).
 */
export class FileWatcher {
  private watcher: FSWatcher | undefined;
  private readonly pending = new Map<string, { event: WatchEvent; timer: NodeJS.Timeout }>();

  constructor(private readonly options: FileWatcherOptions, private readonly on: FileWatcherHandlers) {}

  /** Starts watching; resolves with the files already there once the first scan is done. */
  start(): Promise<string[]> {
    const { dirs, depth, filter, settleMs } = this.options;
    const existing: string[] = [];
    let ready = false;
    const watcher = watch(dirs, {
      depth,
      ignored: (path, stats) => filter.skips(path, stats),
      awaitWriteFinish: {
        stabilityThreshold: settleMs,
        // A quarter of the settle time, within 10..100 ms: stat calls stay cheap with many
        // files pending, and above chokidar's 5 ms event throttle so no last write slips by.
        pollInterval: Math.min(100, Math.max(10, Math.round(settleMs / 4))),
      },
      ignorePermissionErrors: true,
    });
    this.watcher = watcher;
    watcher.on('add', (path) => {
      if (!filter.wants(path)) return;
      if (ready) this.debounce(path, 'add');
      else existing.push(path);
    });
    watcher.on('change', (path) => {
      if (filter.wants(path)) this.debounce(path, 'change');
    });
    watcher.on('unlink', (path) => {
      const waiting = this.pending.get(path);
      if (waiting) clearTimeout(waiting.timer);
      this.pending.delete(path);
      if (filter.wants(path)) this.on.unlink(path);
    });
    watcher.on('error', (error) => this.on.error(error as Error));
    return new Promise((resolve) => {
      watcher.once('ready', () => {
        ready = true;
        resolve(existing);
      });
    });
  }

  async close(): Promise<void> {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await this.watcher?.close();
  }

  private debounce(path: string, event: WatchEvent): void {
    const waiting = this.pending.get(path);
    if (waiting) clearTimeout(waiting.timer);
    // A file added and changed within the window is still new to whoever runs on it.
    const first: WatchEvent = waiting?.event === 'add' ? 'add' : event;
    const timer = setTimeout(() => {
      this.pending.delete(path);
      this.on.file(path, first);
    }, this.options.debounceMs);
    this.pending.set(path, { event: first, timer });
  }
}

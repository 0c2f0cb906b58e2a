import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { WatchEvent } from './expand-placeholders.js';
import type { PathFilter } from './ignore-rules.js';
import type { WriterCheck } from './writer-check.js';

/**
 * A file settled while some process still holds it open for writing (a writer pausing
 * between lines longer than the settle time) is looked at again after 50 ms, then less
 * often the longer it stays open, up to once a second: one /proc scan costs 10-20 ms.
 */
const HOLD_FIRST_MS = 50;
const HOLD_MAX_MS = 1_000;

export interface FileWatcherOptions {
  dirs: string[];
  /** Levels of subdirectories to descend into; 0 watches DIR's own files only. */
  depth: number;
  filter: PathFilter;
  /** How long a file's size must stay the same before it counts as written. */
  settleMs: number;
  /** Quiet time per path after it settled, so a burst of saves gives one event. */
  debounceMs: number;
  /** Descend into symlinked directories (never into one that leads back up its own path). */
  followSymlinks: boolean;
  /** Holds back files still open for writing; undefined: the quiet period alone decides. */
  writers: WriterCheck | undefined;
}

/** A settled file waiting for its debounce, then for its writers to close it. */
interface Pending {
  event: WatchEvent;
  timer: NodeJS.Timeout | undefined;
  /** The answer of the writer check begun with the debounce, so it costs no extra wait. */
  writing: Promise<boolean> | undefined;
  holds: number;
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
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly options: FileWatcherOptions, private readonly on: FileWatcherHandlers) {}

  /** Starts watching; resolves with the files already there once the first scan is done. */
  start(): Promise<string[]> {
    const { dirs, depth, filter, settleMs, followSymlinks } = this.options;
    const existing: string[] = [];
    let ready = false;
    const roots = new Set(dirs.map((dir) => resolve(dir)));
    const watcher = watch(dirs, {
      depth,
      // Followed here so that a DIR given as a symlink is watched; `ignored` decides below it.
      followSymlinks: true,
      ignored: (path, stats) => filter.skips(path, stats) || this.skipsLinkedDirectory(path, stats, roots, followSymlinks),
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

  /** A file found on start that settled: debounced and held back while written, as any other. */
  offer(path: string, event: WatchEvent): void {
    this.debounce(path, event);
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
    const entry: Pending = { event: first, timer: undefined, writing: this.options.writers?.isOpenForWriting(path), holds: 0 };
    entry.timer = setTimeout(() => void this.release(path, entry), this.options.debounceMs);
    this.pending.set(path, entry);
  }

  /**
   * The debounce is over: hand the file on, unless a process still holds it open for
   * writing. Settling on a quiet period alone cannot tell a slow writer from a finished one.
   */
  private async release(path: string, entry: Pending): Promise<void> {
    const open = await entry.writing;
    // A newer event, an unlink or close() took the path over meanwhile.
    if (this.pending.get(path) !== entry) return;
    if (open === true) {
      const delay = Math.min(HOLD_MAX_MS, HOLD_FIRST_MS * 2 ** entry.holds++);
      entry.timer = setTimeout(() => {
        entry.writing = this.options.writers?.isOpenForWriting(path);
        void this.release(path, entry);
      }, delay);
      return;
    }
    this.pending.delete(path);
    this.on.file(path, entry.event);
  }

  /**
   * A symlinked directory below DIR is entered only with --follow-symlinks, and never when
   * it leads to itself or to a directory on its own path (`loop -> .`, `back -> ..`, two
   * directories linking to each other): it would be entered again at every level down to
   * --depth, one more path per file each time. Symlinked files are files.
   */
  private skipsLinkedDirectory(path: string, stats: Stats | undefined, roots: Set<string>, follow: boolean): boolean {
    if (stats?.isFile() === true) return false;
    let target: string;
    try {
      if (!lstatSync(path).isSymbolicLink() || roots.has(resolve(path))) return false;
      target = realpathSync(path);
      if (!lstatSync(target).isDirectory()) return false;
    } catch {
      return false;
    }
    if (!follow) return true;
    // The real place of every directory on the way from the filesystem root to this link.
    for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
      const real = realOrSelf(dir);
      if (real === target || real.startsWith(target + sep)) return true;
      if (dirname(dir) === dir) return false;
    }
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

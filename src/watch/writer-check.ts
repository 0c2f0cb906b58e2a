import { statSync } from 'node:fs';
import { findOpenForWriting, identityKey, type FileIdentity } from './open-writers.js';

interface Waiting {
  file: FileIdentity;
  resolve(open: boolean): void;
}

/**
 * Asks whether a file is still held open for writing, many files per /proc scan: the
 * questions asked while a scan is due (200 files moved in at once) share one scan instead
 * of costing one each.
 */
export class WriterCheck {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** False once /proc proved unreadable: then every answer is "no" at no cost. */
  private usable = true;

  /** True when some process holds `path` open for writing; false when none does, or nobody can tell. */
  isOpenForWriting(path: string): Promise<boolean> {
    if (!this.usable) return Promise.resolve(false);
    let file: FileIdentity;
    try {
      const stats = statSync(path);
      if (!stats.isFile()) return Promise.resolve(false);
      file = { dev: stats.dev, ino: stats.ino };
    } catch {
      // Gone: not being written; whoever runs on it finds it gone.
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      this.waiting.push({ file, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.scan());
    });
  }

  private scan(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    const writing = findOpenForWriting(batch.map((entry) => entry.file));
    if (writing === undefined) this.usable = false;
    for (const { file, resolve } of batch) resolve(writing?.has(identityKey(file)) === true);
  }
}

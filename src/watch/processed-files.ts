import { resolve } from 'node:path';
import type { WatchEvent } from './expand-placeholders.js';
import { identityOf, isSameVersion, type FileVersion } from './file-version.js';
import type { TailPosition } from './records-tail.js';
import type { Outcome, StateEntry, StateFile } from './state-file.js';

/**
 * Which file versions are done, in memory and (with --state) on disk. A version is done once
 * it ran to a final outcome: success, or failure after its retries. Events for a done
 * version (an editor touching a file, a second event for one write) run nothing.
 *
 * A version is also known by its device and inode, so that the same file reached by other
 * paths (a hard link, a symlink, a symlinked directory) is done, or being done, once.
 */
export class ProcessedFiles {
  private readonly done = new Map<string, FileVersion>();
  /** Device:inode → the version done and the path it was done under. */
  private readonly doneFiles = new Map<string, { key: string; version: FileVersion }>();
  /** Device:inode → the path whose run of it is in progress. */
  private readonly running = new Map<string, { key: string; version: FileVersion }>();

  constructor(readonly state: StateFile) {
    // Finished before: done. Failed or unfinished ones are not, so a restart runs them once.
    for (const key of state.keys()) {
      const entry = state.get(key);
      if (entry?.outcome === 'ok') this.setDone(key, entry);
    }
  }

  /** Done under this path, or done or in progress under another path to the same file. */
  isDone(path: string, version: FileVersion): boolean {
    const key = resolve(path);
    if (isSameVersion(this.done.get(key), version)) return true;
    const identity = identityOf(version);
    if (identity === undefined) return false;
    for (const other of [this.doneFiles.get(identity), this.running.get(identity)]) {
      if (other !== undefined && other.key !== key && isSameVersion(other.version, version)) return true;
    }
    return false;
  }

  /** Marks a version as seen without running it (files already there, without --initial). */
  markDone(path: string, version: FileVersion): void {
    this.setDone(resolve(path), version);
  }

  entry(path: string): StateEntry | undefined {
    return this.state.get(resolve(path));
  }

  /** Recorded before the command starts: a crash during the run leaves it unfinished. */
  begin(path: string, event: WatchEvent, version: FileVersion, attempt: number): void {
    const identity = identityOf(version);
    if (identity !== undefined) this.running.set(identity, { key: resolve(path), version });
    this.record(path, { event, version, outcome: 'running', attempts: attempt });
  }

  finish(path: string, event: WatchEvent, version: FileVersion, outcome: Outcome, fields: { attempts: number; final: boolean; exitCode?: number | null; position?: TailPosition }): void {
    const identity = identityOf(version);
    if (identity !== undefined && this.running.get(identity)?.key === resolve(path)) this.running.delete(identity);
    if (fields.final) this.setDone(resolve(path), version);
    this.record(path, { event, version, outcome, attempts: fields.attempts, exitCode: fields.exitCode, position: fields.position });
  }

  /** The records streamed so far from this file (--records), if its state says. */
  position(path: string): TailPosition | undefined {
    const entry = this.entry(path);
    return entry?.offset !== undefined ? { ino: entry.ino, offset: entry.offset, lines: entry.lines ?? 0 } : undefined;
  }

  /** A file that went away: a file of that name later is a new file. */
  forget(path: string): void {
    const key = resolve(path);
    const version = this.done.get(key);
    const identity = version && identityOf(version);
    // Renamed within DIR: the file under its new name is new to whoever runs on it, as before.
    if (identity !== undefined && this.doneFiles.get(identity)?.key === key) this.doneFiles.delete(identity);
    this.done.delete(key);
    this.state.delete(key);
  }

  private setDone(key: string, version: FileVersion): void {
    this.done.set(key, version);
    const identity = identityOf(version);
    if (identity !== undefined) this.doneFiles.set(identity, { key, version });
  }

  private record(path: string, what: { event: WatchEvent; version: FileVersion; outcome: Outcome; attempts: number; exitCode?: number | null | undefined; position?: TailPosition | undefined }): void {
    const { size, mtimeMs, ino, dev } = what.version;
    const entry: StateEntry = { path, size, mtimeMs, ino, dev, event: what.event, outcome: what.outcome, attempts: what.attempts, at: new Date().toISOString() };
    if (what.exitCode !== undefined) entry.exitCode = what.exitCode;
    if (what.position !== undefined) {
      entry.offset = what.position.offset;
      entry.lines = what.position.lines;
    }
    this.state.set(resolve(path), entry);
  }
}

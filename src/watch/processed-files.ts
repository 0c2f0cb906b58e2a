import { resolve } from 'node:path';
import type { WatchEvent } from './expand-placeholders.js';
import { isSameVersion, type FileVersion } from './file-version.js';
import type { TailPosition } from './records-tail.js';
import type { Outcome, StateEntry, StateFile } from './state-file.js';

/**
 * Which file versions are done, in memory and (with --state) on disk. A version is done once
 * it ran to a final outcome: success, or failure after its retries. Events for a done
 * version (an editor touching a file, a second event for one write) run nothing.
 */
export class ProcessedFiles {
  private readonly done = new Map<string, FileVersion>();

  constructor(readonly state: StateFile) {
    // Finished before: done. Failed or unfinished ones are not, so a restart runs them once.
    for (const key of state.keys()) {
      const entry = state.get(key);
      if (entry?.outcome === 'ok') this.done.set(key, entry);
    }
  }

  isDone(path: string, version: FileVersion): boolean {
    return isSameVersion(this.done.get(resolve(path)), version);
  }

  /** Marks a version as seen without running it (files already there, without --initial). */
  markDone(path: string, version: FileVersion): void {
    this.done.set(resolve(path), version);
  }

  entry(path: string): StateEntry | undefined {
    return this.state.get(resolve(path));
  }

  /** Recorded before the command starts: a crash during the run leaves it unfinished. */
  begin(path: string, event: WatchEvent, version: FileVersion, attempt: number): void {
    this.record(path, { event, version, outcome: 'running', attempts: attempt });
  }

  finish(path: string, event: WatchEvent, version: FileVersion, outcome: Outcome, fields: { attempts: number; final: boolean; exitCode?: number | null; position?: TailPosition }): void {
    if (fields.final) this.done.set(resolve(path), version);
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
    this.done.delete(key);
    this.state.delete(key);
  }

  private record(path: string, what: { event: WatchEvent; version: FileVersion; outcome: Outcome; attempts: number; exitCode?: number | null | undefined; position?: TailPosition | undefined }): void {
    const { size, mtimeMs, ino } = what.version;
    const entry: StateEntry = { path, size, mtimeMs, ino, event: what.event, outcome: what.outcome, attempts: what.attempts, at: new Date().toISOString() };
    if (what.exitCode !== undefined) entry.exitCode = what.exitCode;
    if (what.position !== undefined) {
      entry.offset = what.position.offset;
      entry.lines = what.position.lines;
    }
    this.state.set(resolve(path), entry);
  }
}

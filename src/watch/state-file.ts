import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { WatchEvent } from './expand-placeholders.js';
import type { FileVersion } from './file-version.js';

/** `running` and `interrupted` are unfinished: a restart processes them again, like `failed`. */
export type Outcome = 'running' | 'ok' | 'failed' | 'interrupted';

export interface StateEntry extends FileVersion {
  /** The path as op watch reports it (relative to where it was started, if DIR was). */
  path: string;
  event: WatchEvent;
  outcome: Outcome;
  attempts: number;
  exitCode?: number | null;
  /** When the outcome was recorded (ISO 8601). */
  at: string;
  /** --records: bytes of whole lines already streamed, and how many lines that was. */
  offset?: number;
  lines?: number;
}

interface StateDocument {
  opWatchState: 1;
  /** Keyed by absolute path, so a restart from another directory finds the same files. */
  files: Record<string, StateEntry>;
}

/**
 * What was processed, kept in memory and, with --state, mirrored to FILE. Each save writes
 * a temporary file and renames it over FILE, so a crash at any instant leaves either the
 * old or the new state, never a torn one. Saves requested while one is being written are
 * coalesced into one more write: 200 files finishing at once cost a handful of writes.
 */
export class StateFile {
  private readonly files = new Map<string, StateEntry>();
  private writing: Promise<void> | undefined;
  private dirty = false;
  private failure: Error | undefined;

  private constructor(readonly path: string | undefined) {}

  /** The state at FILE (none yet: empty); no FILE: a state kept in memory only. */
  static load(path: string | undefined): StateFile {
    const state = new StateFile(path);
    if (path === undefined) return state;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return state;
      throw new UsageError(`--state ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const doc = parseDocument(text, path);
    for (const [key, entry] of Object.entries(doc.files)) state.files.set(key, entry);
    return state;
  }

  get(key: string): StateEntry | undefined {
    return this.files.get(key);
  }

  keys(): string[] {
    return [...this.files.keys()];
  }

  set(key: string, entry: StateEntry): void {
    this.files.set(key, entry);
    this.save();
  }

  delete(key: string): void {
    if (this.files.delete(key)) this.save();
  }

  /** Writes soon; at most one write in flight and one queued behind it. */
  save(): void {
    if (this.path === undefined) return;
    this.dirty = true;
    this.writing ??= this.writeLoop(this.path);
  }

  /** Resolves once everything set so far is on disk; throws the first write failure. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  private async writeLoop(path: string): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const doc: StateDocument = { opWatchState: 1, files: Object.fromEntries(this.files) };
        await writeAtomically(path, JSON.stringify(doc, null, 1) + '\n');
      }
    } catch (error) {
      this.failure ??= new Error(`--state ${path}: cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }
}

function parseDocument(text: string, path: string): StateDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--state ${path}: not an op watch state file: ${(error as Error).message}`);
  }
  const files = (doc as StateDocument | null)?.files;
  if ((doc as StateDocument | null)?.opWatchState !== 1 || typeof files !== 'object' || files === null) {
    throw new UsageError(`--state ${path}: not an op watch state file`);
  }
  return doc as StateDocument;
}

/** Temp file in the same directory (rename is atomic only within one file system), fsync, rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

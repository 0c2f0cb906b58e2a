import { closeSync, fdatasync, fdatasyncSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { OpError, UsageError } from '../core/errors.js';
import { fsReason } from '../io/fs-reason.js';
import type { Chunk, ChunkResult } from '../records/chunk.js';
import { emptyResult } from '../records/failed-records.js';
import type { DeadLetter } from '../records/record-runner.js';
import { addStats } from '../records/stats.js';
import { formatEntry, parseEntry, type JournalEntry } from './journal-entry.js';
import { checkHeader, type JournalHeader } from './journal-header.js';
import { RecordKeys, unitLastLine, unitLines, unitSize, type ChunkUnits } from './journal-keys.js';
import { TaskSizer } from '../executors/task-sizer.js';

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface JournalOptions {
  path: string;
  fsync: FsyncPolicy;
  /** Resume even when the journal was written by another command, handler or key. */
  force: boolean;
  /** Run the records journaled as dead again. */
  resumeFailed: boolean;
  header: JournalHeader;
  idField: string | undefined;
  /** With --errors: dead records are reported, so they can be taken from the journal. */
  deadLetters: boolean;
  ordered: boolean;
  /** For the torn-entry warning: `op map`. */
  command: string;
}

/** `--fsync batch`: an fsync at least every 100 records or every second, whichever comes first. */
const SYNC_RECORDS = 100;
const SYNC_MS = 1000;
/**
 * A killed run repeats the records finished in chunks whose result had not arrived, so
 * chunks are sized to about 20 ms of work (from 1 KiB, at most the executor's size): a
 * slow handler's chunks stay small, a fast one's grow to the full size at once.
 */
const CHUNK_MS = 20;
const MIN_CHUNK_BYTES = 512;
const FIRST_CHUNK_BYTES = 1024;

/**
 * `--journal FILE`: one NDJSON entry per finished record (its key, ok or dead, its output or
 * dead letters), appended as each chunk's result arrives, whatever the executor. A record
 * already journaled is not run again; its journaled output is delivered in its place, so a
 * resumed run writes what an uninterrupted one would, byte for byte. Output waits until the
 * entries behind it are on disk (`durable`), so no line is ever written without its entry.
 */
export class Journal {
  /** Records delivered from the journal instead of being run (`resumed` in --stats). */
  resumed = 0;
  private readonly keys: RecordKeys;
  private readonly sizer = new TaskSizer(Number.MAX_SAFE_INTEGER, { first: FIRST_CHUNK_BYTES, min: MIN_CHUNK_BYTES, targetMs: CHUNK_MS });
  private readonly seqOf = new WeakMap<ChunkResult, number>();
  private appended = 0;
  private written = 0;
  private synced = 0;
  /** Records written since the last fsync began, and when the first of them was appended. */
  private unsynced = 0;
  private oldest = 0;
  /** `--fsync batch`: the second since the oldest unsynced entry is up. */
  private due = false;
  private timer: NodeJS.Timeout | undefined;
  /** The highest append a delivery waits to see synced. */
  private wanted = 0;
  private flushing: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private failure: OpError | undefined;

  private constructor(
    private readonly options: JournalOptions,
    private readonly done: Map<string, JournalEntry>,
    private readonly fd: number,
  ) {
    this.keys = new RecordKeys(options.idField);
  }

  /** Reads what an earlier run journaled (refusing another run's journal), then opens it for appending. */
  static async open(options: JournalOptions): Promise<Journal> {
    const done = new Map<string, JournalEntry>();
    let fresh = true;
    const found = statSync(options.path, { throwIfNoEntry: false });
    if (found) {
      // A device or a pipe cannot be read back on resume (/dev/full reads zeros without end).
      if (!found.isFile()) throw new UsageError(`--journal ${options.path}: not a regular file; the journal is read back to resume`);
      let text: string;
      try {
        text = readFileSync(options.path, 'utf8');
      } catch (error) {
        throw new OpError(`--journal ${options.path}: cannot read: ${fsReason(error)}`, { cause: error });
      }
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        // A run killed mid-write leaves a partial last line: that record simply runs again.
        process.stderr.write(`${options.command}: --journal ${options.path}: dropped a torn last entry (${text.length - end} characters)\n`);
        truncateSync(options.path, Buffer.byteLength(text.slice(0, end)));
      }
      const lines = text.slice(0, end).split('\n');
      lines.pop();
      if (lines.length > 0) {
        fresh = false;
        checkHeader(options.path, lines[0]!, options.header, options.force);
        for (let k = 1; k < lines.length; k++) {
          let entry: JournalEntry;
          try {
            entry = parseEntry(lines[k]!);
          } catch {
            throw new OpError(`--journal ${options.path}:${k + 1}: not a journal entry`);
          }
          // A later entry wins: a dead record run again with --resume-failed.
          done.set(entry.key, entry);
        }
      }
    }
    let fd: number;
    try {
      fd = openSync(options.path, fresh ? 'w' : 'a');
      if (fresh) {
        writeAll(fd, JSON.stringify(options.header) + '\n');
        if (options.fsync !== 'never') fdatasyncSync(fd);
      }
    } catch (error) {
      throw new OpError(`--journal ${options.path}: cannot write: ${fsReason(error)}`, { cause: error });
    }
    return new Journal(options, done, fd);
  }

  /**
   * Runs the records of `chunk` that are not journaled yet (through `run`), journals them,
   * and returns the chunk's whole result: journaled and fresh output in input order.
   */
  async run(chunk: Chunk, run: (chunk: Chunk) => Promise<ChunkResult>): Promise<ChunkResult> {
    const units = this.keys.unitsOf(chunk.bytes, chunk.firstLine, chunk.batches);
    const count = units.keys.length;
    // A fresh journal has nothing to look up.
    const taken = this.done.size === 0 ? undefined : units.keys.map((key) => this.journaled(key));
    const takenCount = taken ? taken.filter((entry) => entry !== undefined).length : 0;
    let result: ChunkResult;
    if (takenCount === 0) {
      result = await run(chunk);
    } else if (takenCount === count) {
      result = emptyResult();
    } else {
      const skip: number[] = [];
      for (let k = 0; k < count; k++) if (taken![k]) skip.push(...unitLines(units, k));
      const batches = chunk.batches && units.keys.flatMap((_, k) => (taken![k] ? [] : [unitSize(units, k)]));
      result = await run({ ...chunk, skip, batches });
    }
    if (result.setupFailure) return result;
    // Measured on what ran: journaled records took no time.
    const ran = count - takenCount;
    if (ran > 0) this.sizer.record(Math.round((chunk.bytes.length * ran) / count), result.ms);
    return this.merge(units, taken, result);
  }

  /** Bytes the next chunk should aim for: at most `max`, the executor's own size. */
  chunkBytes(max: number): number {
    return Math.min(max, this.sizer.next());
  }

  /** Resolves once the entries of `result`'s records are as durable as --fsync asks; `more`: other results wait behind it. */
  durable(result: ChunkResult, more: boolean): Promise<void> | undefined {
    const seq = this.seqOf.get(result);
    if (seq === undefined) return undefined;
    if (this.options.fsync === 'never') return this.written >= seq ? undefined : this.waitFor(() => this.written >= seq);
    if (this.synced >= seq) return undefined;
    // Nothing else to batch with: sync now rather than hold the output for the timer.
    if (this.options.fsync === 'always' || !more) this.wanted = Math.max(this.wanted, seq);
    this.flush();
    return this.waitFor(() => this.synced >= seq);
  }

  /** After the last delivery: everything handed to the file, the file closed. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    while (this.flushing) await this.flushing;
    try {
      closeSync(this.fd);
    } catch {}
    if (this.failure) throw this.failure;
  }

  private journaled(key: string): JournalEntry | undefined {
    const entry = this.done.get(key);
    if (entry?.status === 'dead' && (this.options.resumeFailed || !this.options.deadLetters)) return undefined;
    return entry;
  }

  /** Fresh results by line, merged with the journaled ones; the fresh ones are appended to the journal. */
  private merge(units: ChunkUnits, taken: Array<JournalEntry | undefined> | undefined, result: ChunkResult): ChunkResult {
    const pieces = new Map<number, string>();
    const lines = result.outLines ?? [];
    for (let k = 0; k < lines.length; k++) {
      const piece = result.out[k]!;
      const text = typeof piece === 'string' ? piece : Buffer.from(piece).toString('utf8');
      const before = pieces.get(lines[k]!);
      pieces.set(lines[k]!, before === undefined ? text : before + text);
    }
    const sides = new Map<number, number>();
    const sideAt = result.sideAt ?? [];
    for (let k = 0; k < sideAt.length; k += 2) sides.set(sideAt[k]!, sideAt[k + 1]!);
    const letters = new Map<number, DeadLetter[]>();
    for (const letter of result.deadLetters) letters.set(letter.line, [...(letters.get(letter.line) ?? []), letter]);
    const lettersOf = (k: number): DeadLetter[] => (letters.size === 0 ? NONE : unitLines(units, k).flatMap((line) => letters.get(line) ?? []));
    const merged = { ...emptyResult(), stats: result.stats, failure: result.failure, ms: result.ms };
    let text = '';
    let entries = '';
    let count = 0;
    const deliver = (out: string, dead: DeadLetter[]): void => {
      text += out;
      if (dead.length === 0) return;
      if (text) merged.out.push(text);
      text = '';
      for (const letter of dead) {
        merged.deadLetters.push(letter);
        merged.deadLetterAt.push(merged.out.length);
      }
    };
    const fresh: number[] = [];
    for (let k = 0; k < units.keys.length; k++) {
      const entry = taken?.[k];
      if (entry) {
        const size = unitSize(units, k);
        this.resumed += size;
        addStats(merged.stats, entryStats(entry, size));
        deliver(entry.out, entry.deadLetters);
        continue;
      }
      const last = unitLastLine(units, k);
      const out = pieces.get(last);
      const dead = lettersOf(k);
      // Not finished: the run stopped before it (or, in order, at it).
      if (out === undefined && dead.length === 0) {
        if (this.options.ordered) break;
        continue;
      }
      entries += formatEntry({ key: units.keys[k]!, status: dead.length > 0 ? 'dead' : 'ok', out: out ?? '', deadLetters: dead, sideVersion: sides.get(last) });
      count++;
      if (this.options.ordered) deliver(out ?? '', dead);
      else fresh.push(k);
    }
    // Unordered: the fresh records in the order they completed.
    if (!this.options.ordered) {
      const order = new Map(lines.map((line, k) => [line, k]));
      const lastLine = (k: number): number => unitLastLine(units, k);
      fresh.sort((x, y) => (order.get(lastLine(x)) ?? -1) - (order.get(lastLine(y)) ?? -1));
      for (const k of fresh) deliver(pieces.get(lastLine(k)) ?? '', lettersOf(k));
    }
    if (text) merged.out.push(text);
    if (count > 0) this.seqOf.set(merged, this.append(entries, count));
    return merged;
  }

  /**
   * Written at once, synchronously: a chunk's entries (tens of KiB) reach the page cache in
   * tens of µs, less than a round trip through libuv's thread pool, and a full disk fails
   * right here, before the chunk's output can be delivered. Only fsync runs in the pool.
   */
  private append(text: string, records: number): number {
    const seq = ++this.appended;
    if (this.failure) return seq;
    if (this.unsynced === 0) this.oldest = performance.now();
    try {
      writeAll(this.fd, text);
    } catch (error) {
      this.fail(error);
      this.wake();
      return seq;
    }
    this.written = seq;
    this.unsynced += records;
    if (this.options.fsync !== 'never') this.flush();
    return seq;
  }

  /**
   * The one fsync in flight, covering everything written before it; records keep being
   * processed meanwhile, so the next covers all that came in during the last (group
   * commit): one fsync per chunk or fewer, never one per record.
   */
  private flush(): void {
    this.flushing ??= this.syncWhileDue().finally(() => {
      this.flushing = undefined;
      this.wake();
      // Written between the last look and now.
      if (this.failure === undefined && this.written > this.synced && this.syncDue()) this.flush();
    });
  }

  private async syncWhileDue(): Promise<void> {
    while (this.failure === undefined && this.written > this.synced) {
      if (!this.syncDue()) {
        if (this.options.fsync === 'batch') this.startTimer();
        return;
      }
      const upto = this.written;
      this.unsynced = 0;
      this.due = false;
      clearTimeout(this.timer);
      this.timer = undefined;
      try {
        await datasync(this.fd);
      } catch (error) {
        this.fail(error);
      }
      this.synced = upto;
      this.wake();
    }
  }

  private syncDue(): boolean {
    const { fsync } = this.options;
    if (fsync === 'never') return false;
    return fsync === 'always' || this.due || this.wanted > this.synced || this.unsynced >= SYNC_RECORDS || performance.now() - this.oldest >= SYNC_MS;
  }

  private startTimer(): void {
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        this.due = true;
        this.flush();
      },
      Math.max(0, SYNC_MS - (performance.now() - this.oldest)),
    );
  }

  private fail(error: unknown): void {
    this.failure ??= new OpError(`--journal ${this.options.path}: cannot write: ${fsReason(error)}`, { cause: error });
  }

  private async waitFor(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

const NONE: DeadLetter[] = [];
const datasync = promisify(fdatasync);

/** All of `text`, however many writes it takes (a write may be short near a full disk). */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
}

/** What a journaled unit of `records` records adds to the run's counters. */
function entryStats(entry: JournalEntry, records: number): ChunkResult['stats'] {
  let lines = 0;
  for (let at = entry.out.indexOf('\n'); at >= 0; at = entry.out.indexOf('\n', at + 1)) lines++;
  const errors = entry.status === 'dead' ? records : 0;
  return { in: records, out: lines, dropped: lines === 0 && errors === 0 ? records : 0, errors, retries: 0 };
}


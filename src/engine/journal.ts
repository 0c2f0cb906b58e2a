import { closeSync, fdatasync, openSync, readFileSync, statSync, truncateSync, write as fsWrite, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { OpError, UsageError } from '../core/errors.js';
import { fsReason } from '../io/fs-reason.js';
import type { Chunk, ChunkResult } from '../records/chunk.js';
import { emptyResult } from '../records/failed-records.js';
import { pieceBytes, pieceText, recordPieces } from '../records/record-pieces.js';
import type { DeadLetter } from '../records/record-runner.js';
import { addStats } from '../records/stats.js';
import { formatEntry, parseEntry, type JournalEntry } from './journal-entry.js';
import { checkHeader, type JournalHeader } from './journal-header.js';
import { RecordKeys, unitKey, unitLastLine, unitLines, unitSize, writeHashKey, type ChunkUnits } from './journal-keys.js';
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
  /** A fresh journal's chunks, taken in input order. */
  private inOrder: Promise<unknown> = Promise.resolve();
  /** The entries' writes, chained in append order. */
  private writing: Promise<void> = Promise.resolve();
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
        const header = Buffer.from(JSON.stringify(options.header) + '\n');
        // Made durable by the first entries' fsync: a sync of its own cost tens of ms before the first record.
        for (let at = 0; at < header.length; ) at += writeSync(fd, header, at);
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
    // A fresh journal has nothing to look up: the chunk runs first, and its line hashes come
    // back with its result (made in the worker, with -w N). Keys are counted in input
    // order, so results are taken one after another, in the order the chunks came. A
    // resumed one keys the chunk before it runs, so the run hashes nothing.
    if (this.done.size === 0) {
      const ran = run(this.keys.byLineHash(chunk.batches) ? { ...chunk, hashLines: true } : chunk);
      const turn = this.inOrder.then(async () => {
        const result = await ran;
        if (result.setupFailure) return result;
        const units = result.lineHashes ? this.keys.countHashed(result.lineHashes) : this.keys.unitsOf(chunk.bytes, chunk.firstLine, chunk.batches);
        return this.finish(chunk, units, undefined, result);
      });
      this.inOrder = turn.then(noop, noop);
      return turn;
    }
    const units = this.keys.unitsOf(chunk.bytes, chunk.firstLine, chunk.batches);
    const count = units.count;
    const taken = Array.from({ length: count }, (_, k) => this.journaled(unitKey(units, k)));
    const takenCount = taken.filter((entry) => entry !== undefined).length;
    let result: ChunkResult;
    if (takenCount === 0) {
      result = await run(chunk);
    } else if (takenCount === count) {
      result = emptyResult();
    } else {
      const skip: number[] = [];
      for (let k = 0; k < count; k++) if (taken![k]) skip.push(...unitLines(units, k));
      const batches = chunk.batches && taken!.flatMap((entry, k) => (entry ? [] : [unitSize(units, k)]));
      result = await run({ ...chunk, skip, batches });
    }
    return this.finish(chunk, units, takenCount === 0 ? undefined : taken, result);
  }

  private finish(chunk: Chunk, units: ChunkUnits, taken: Array<JournalEntry | undefined> | undefined, result: ChunkResult): ChunkResult {
    if (result.setupFailure) return result;
    // Measured on what ran: journaled records took no time.
    const ran = units.count - (taken ? taken.filter((entry) => entry !== undefined).length : 0);
    if (ran > 0) this.sizer.record(Math.round((chunk.bytes.length * ran) / units.count), result.ms);
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
    await this.writing;
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
    if (taken === undefined) {
      const fast = this.mergeInOrder(units, result);
      if (fast) return fast;
    }
    const pieces = new Map<number, string>();
    const lines = result.outLines ?? [];
    const out = recordPieces(result);
    for (let k = 0; k < lines.length; k++) {
      const text = pieceText(out[k]!);
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
    for (let k = 0; k < units.count; k++) {
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
      entries += formatEntry({ key: unitKey(units, k), status: dead.length > 0 ? 'dead' : 'ok', out: out ?? '', deadLetters: dead, sideVersion: sides.get(last) });
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
   * The common case in bytes: nothing taken from the journal, line-hash keys (not --id,
   * not batches), records in order, one piece per record in input order, each empty or one
   * line of ASCII, no dead letter, no side input. The output is encoded once, and each entry is the record's output
   * bytes copied between its key and its brackets: no entry text, no second encoding.
   * Anything else returns undefined, before any effect, for the general merge.
   */
  private mergeInOrder(units: ChunkUnits, result: ChunkResult): ChunkResult | undefined {
    const lengths = result.packed;
    const tags = result.outLines;
    if (!this.options.ordered || !lengths || !tags || !units.hashes || result.deadLetters.length > 0 || result.sideAt?.length) return undefined;
    const count = tags.length;
    if (count > units.count) return undefined;
    for (let k = 0; k < count; k++) if (tags[k] !== units.lines[k]) return undefined;
    const bytes = pieceBytes(result.out[0] ?? '');
    let chars = 0;
    for (let k = 0; k < count; k++) chars += lengths[k]!;
    // Past ASCII, code units are not bytes.
    if (bytes.length !== chars) return undefined;
    const merged: ChunkResult = { ...emptyResult(), stats: result.stats, failure: result.failure, ms: result.ms };
    if (count === 0) return merged;
    const entries = Buffer.allocUnsafe(bytes.length + count * ENTRY_ROOM);
    let at = 0;
    let from = 0;
    for (let k = 0; k < count; k++) {
      const length = lengths[k]!;
      const end = from + length;
      // One line: its only newline is its last byte.
      if (length > 0 && bytes.indexOf(NEWLINE, from) !== end - 1) return undefined;
      at = copyInto(ENTRY_HEAD, entries, at);
      at = writeHashKey(units, k, entries, at);
      at = copyInto(ENTRY_OK, entries, at);
      if (length > 0) at += bytes.copy(entries, at, from, end - 1);
      at = copyInto(ENTRY_TAIL, entries, at);
      from = end;
    }
    merged.out.push(bytes);
    this.seqOf.set(merged, this.append(entries.subarray(0, at), count));
    return merged;
  }

  /**
   * Written in the thread pool, one chunk's entries after another: copying a million
   * entries into the page cache (about the output's size again) took a quarter of a second
   * of the main thread, which the pool's thread spends instead. Nothing waits on a write
   * but the output behind it (durable()), so a full disk still fails before that output
   * is delivered.
   */
  private append(text: string | Uint8Array, records: number): number {
    const seq = ++this.appended;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      if (this.unsynced === 0) this.oldest = performance.now();
      try {
        await writeAll(this.fd, bytes);
      } catch (error) {
        this.fail(error);
        this.wake();
        return;
      }
      this.written = seq;
      this.unsynced += records;
      if (this.options.fsync !== 'never') this.flush();
      this.wake();
    });
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
function noop(): void {}
const NEWLINE = 0x0a;
/** An entry's fixed bytes, around its key and its output line (journal-entry.ts). */
const ENTRY_HEAD = Buffer.from('{"k":');
const ENTRY_OK = Buffer.from(',"s":"ok","o":[');
const ENTRY_TAIL = Buffer.from(']}\n');
/** An entry's bytes beside its output: the fixed ones, a hash key in quotes, and room for `#n`. */
const ENTRY_ROOM = ENTRY_HEAD.length + ENTRY_OK.length + ENTRY_TAIL.length + 18 + 12;

/** Copies a few fixed bytes byte by byte: cheaper than a native call for a dozen. */
function copyInto(source: Uint8Array, target: Uint8Array, at: number): number {
  for (let k = 0; k < source.length; k++) target[at++] = source[k]!;
  return at;
}

const datasync = promisify(fdatasync);
const write = promisify(fsWrite);

/** All of `text`, however many writes it takes (a write may be short near a full disk). */
async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; ) at += (await write(fd, bytes, at, bytes.length - at, null)).bytesWritten;
}

/** What a journaled unit of `records` records adds to the run's counters. */
function entryStats(entry: JournalEntry, records: number): ChunkResult['stats'] {
  let lines = 0;
  for (let at = entry.out.indexOf('\n'); at >= 0; at = entry.out.indexOf('\n', at + 1)) lines++;
  const errors = entry.status === 'dead' ? records : 0;
  return { in: records, out: lines, dropped: lines === 0 && errors === 0 ? records : 0, errors, retries: 0 };
}


import { read } from 'node:fs';
import { promisify } from 'node:util';
import { bomLength } from '../io/line-end.js';
import { MAX_LINE_BYTES } from '../io/split-lines.js';
import { READ_BYTES, type ChunkSource } from '../io/open-source.js';
import type { BatchLimits } from '../records/batcher.js';
import type { Chunk } from '../records/chunk.js';
import { fitSlot, growSlot, type ChunkRing, type Slot } from './chunk-ring.js';
import { ChunkScanner } from './chunk-scanner.js';

const readFd = promisify(read);

/** A chunk as the reader hands it out: it holds its ring slot until the trunk releases it. */
export interface SourceChunk extends Chunk {
  /** Undefined only for an over-long line, which holds no bytes. */
  slot: Slot | undefined;
  /** A line past MAX_LINE_BYTES, skipped unread: one bad record at `firstLine`. */
  overlong: boolean;
  /**
   * Bytes of the source this chunk stands for, for the progress line: its lines plus what
   * was dropped before them (a byte-order mark, an over-long line); for gzip, compressed bytes.
   */
  inputBytes: number;
}

/** Line and record counters that run across all sources of a run. */
export interface Numbering {
  line: number;
  index: number;
}

export interface ReadOptions {
  ring: ChunkRing;
  numbering: Numbering;
  halted: () => boolean;
  batch: BatchLimits | undefined;
  /** Bytes to aim for in the next chunk (the executor's task size), given the source's bytes still unread when known; at most a ring slot. */
  chunkBytes: (remaining: number | undefined) => number;
  /** The longest line taken (default MAX_LINE_BYTES); a longer one is one bad record. */
  maxLineBytes?: number | undefined;
}

/**
 * The one reader: turns a source into numbered chunks of whole lines (whole batches for
 * op batch), read straight into ring slots. Line numbers, batch cuts (chunk-scanner.ts),
 * `--wait` deadlines, the byte-order mark and over-long lines are decided here and
 * nowhere else. Regular files are read with fs.read into the slot (no copy at all); pipes
 * come through their stream, one memcpy per read. What follows the last whole line is
 * copied to the start of the next slot.
 */
export async function* readChunks(source: ChunkSource, options: ReadOptions): AsyncGenerator<SourceChunk> {
  const { ring, numbering, halted, batch } = options;
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const read = source.fd === undefined ? streamFiller(source.stream) : source.readAhead ? readAheadFiller(source.fd) : fdFiller(source.fd);
  let pulled = 0;
  const fill: Filler = async (buf, offset, length, deadline) => {
    const n = await read(buf, offset, length, deadline);
    if (n !== 'due') pulled += n;
    return n;
  };
  /** Source bytes given to chunks so far. */
  let accounted = 0;
  /** The source bytes up to the end of what was handed out (`used` bytes are still held). */
  const account = (): number => {
    const at = source.consumed?.() ?? pulled - used;
    const bytes = Math.max(0, at - accounted);
    accounted += bytes;
    return bytes;
  };
  const scanner = new ChunkScanner(batch);
  let slot = await ring.acquire();
  let used = 0;
  let atStart = true;
  let openedAt: number | undefined;
  /** Hands out what the scanner allows and moves the rest into a fresh slot. */
  async function* emit(): AsyncGenerator<SourceChunk> {
    const taken = scanner.take();
    if (!taken) return;
    // What stays (a partial line, or for op batch the open batch) may be more than a fresh slot holds.
    const next = fitSlot(await ring.acquire(), used - taken.bytes + 1);
    slot.buf.copy(next.buf, 0, taken.bytes, used);
    used -= taken.bytes;
    const chunk: SourceChunk = {
      bytes: slot.buf.subarray(0, taken.bytes),
      sab: slot.sab,
      slot,
      overlong: false,
      inputBytes: account(),
      firstLine: numbering.line,
      firstIndex: numbering.index,
      records: taken.records,
      batches: taken.batches,
      source: source.name,
    };
    numbering.line += taken.lines;
    numbering.index += taken.records;
    slot = next;
    openedAt = used > 0 ? openedAt : undefined;
    yield chunk;
  }
  while (!halted()) {
    if (used === slot.buf.length) {
      if (used < maxLineBytes) {
        slot = growSlot(slot, used);
      } else {
        used = await skipRestOfLine(fill, slot);
        yield overlongChunk(numbering, source.name, account());
        continue;
      }
    }
    const deadline = batch?.wait === undefined || openedAt === undefined ? undefined : openedAt + batch.wait;
    // Aim for the executor's task size; a line longer than that is read to its end.
    // Unread bytes are known for a file read as it is (not through gzip).
    const remaining = source.size === undefined || source.consumed?.() !== undefined ? undefined : Math.max(0, source.size - pulled);
    const target = Math.min(slot.buf.length, options.chunkBytes(remaining));
    let n: number | 'due';
    try {
      n = await fill(slot.buf, used, (used < target ? target : slot.buf.length) - used, deadline);
    } catch (error) {
      // A read that fails part way (a corrupt gzip stream): the whole lines before it still run, then the error stops the run.
      const last = used > 0 ? slot.buf.lastIndexOf(10, used - 1) : -1;
      if (last >= 0 && !halted()) {
        scanner.scan(slot.buf, last + 1);
        scanner.closeOpenBatch();
        yield* emit();
      }
      throw error;
    }
    if (n === 'due') {
      scanner.closeOpenBatch();
      openedAt = undefined;
      yield* emit();
      continue;
    }
    if (n === 0) break;
    if (atStart) {
      atStart = false;
      const bom = bomLength(slot.buf, 0);
      if (bom > 0 && n >= bom) {
        slot.buf.copy(slot.buf, 0, bom, n);
        used -= bom;
      }
    }
    const last = slot.buf.lastIndexOf(10, used + n - 1);
    used += n;
    if (last < 0) continue;
    scanner.scan(slot.buf, last + 1);
    openedAt ??= performance.now();
    yield* emit();
  }
  if (!halted()) {
    // The last line of a source may lack its newline; the last batch goes out however full.
    scanner.scan(slot.buf, used);
    scanner.closeOpenBatch();
    if (used > 0) yield* emit();
  }
  ring.release(slot);
}

/** A line past MAX_LINE_BYTES: one record that is reported, never held. */
function overlongChunk(numbering: Numbering, source: string, inputBytes: number): SourceChunk {
  const chunk: SourceChunk = {
    bytes: Buffer.alloc(0),
    sab: undefined,
    slot: undefined,
    overlong: true,
    inputBytes,
    firstLine: numbering.line,
    firstIndex: numbering.index,
    records: 1,
    batches: undefined,
    source,
  };
  numbering.line += 1;
  numbering.index += 1;
  return chunk;
}

/** Reads and drops bytes up to the next newline; what follows it is moved to the slot's start. */
async function skipRestOfLine(fill: Filler, slot: Slot): Promise<number> {
  for (;;) {
    const n = await fill(slot.buf, 0, slot.buf.length, undefined);
    if (n === 0 || n === 'due') return 0;
    const nl = slot.buf.indexOf(10);
    if (nl >= 0 && nl < n) {
      slot.buf.copy(slot.buf, 0, nl + 1, n);
      return n - (nl + 1);
    }
  }
}

/** Up to `length` bytes read into `buf` at `offset` (0 at the end), or 'due' when `deadline` passed first. */
type Filler = (buf: Buffer, offset: number, length: number, deadline: number | undefined) => Promise<number | 'due'>;

function fdFiller(fd: number): Filler {
  // A read of a regular file returns at once, so the deadline is checked between reads.
  return async (buf, offset, length, deadline) => {
    if (deadline !== undefined && performance.now() >= deadline) return 'due';
    return (await readFd(fd, buf, offset, length, null)).bytesRead;
  };
}

/** Reads a file ahead: this many reads of READ_BYTES in flight or waiting to be taken. */
const READS_AHEAD = 4;

/**
 * A regular file read ahead, for the inline path: READS_AHEAD reads in flight or done, at
 * known offsets from the start, into buffers of its own that are reused. With one read
 * ahead (a stream's) each chunk waited for its read's round trip through the thread pool
 * (op filter's main thread was idle 11% of its run); a 256 KiB stream read ahead instead
 * cost ~30 MiB of peak RSS in the buffers it dropped. A short read ends the reads issued
 * past it (a file that grows meanwhile must not leave a gap), and reading goes on from
 * where it ended, until a read returns nothing.
 */
function readAheadFiller(fd: number): Filler {
  const free: Buffer[] = Array.from({ length: READS_AHEAD }, () => Buffer.allocUnsafeSlow(READ_BYTES));
  let queue: Array<Promise<{ buf: Buffer; at: number; n: number }>> = [];
  let position = 0;
  let ended = false;
  let current: { buf: Buffer; n: number; taken: number } | undefined;
  const issue = (): void => {
    while (!ended && free.length > 0) {
      const buf = free.pop()!;
      const at = position;
      position += READ_BYTES;
      const read = readFd(fd, buf, 0, READ_BYTES, at).then(({ bytesRead }) => ({ buf, at, n: bytesRead }));
      // A run that stops reading closes the file under the reads still in flight: those fail unseen.
      read.catch(noop);
      queue.push(read);
    }
  };
  return async (buf, offset, length, deadline) => {
    if (deadline !== undefined && performance.now() >= deadline) return 'due';
    // A request is filled across reads: a chunk that starts with the last one's partial line
    // would otherwise end where a read ends, and the few bytes left of that read would make
    // a chunk of one line next time (every other chunk, before this).
    let copied = 0;
    while (copied < length) {
      if (!current || current.taken === current.n) {
        if (current) free.push(current.buf);
        current = undefined;
        issue();
        const next = queue.shift();
        if (!next) break;
        const got = await next;
        if (got.n === 0) {
          ended = true;
          free.push(got.buf);
          break;
        }
        if (got.n < READ_BYTES) {
          // The file ended here when this read ran: what was read past it is read again in order.
          const past = queue;
          queue = [];
          for (const read of past) read.then(({ buf: spare }) => free.push(spare), noop);
          position = got.at + got.n;
        }
        current = { buf: got.buf, n: got.n, taken: 0 };
      }
      const n = Math.min(current.n - current.taken, length - copied);
      current.buf.copy(buf, offset + copied, current.taken, current.taken + n);
      current.taken += n;
      copied += n;
      // What a short read got is all there was: it goes out now, not after a wait for more.
      if (current.n < READ_BYTES) break;
    }
    return copied;
  };
}

function noop(): void {}

function streamFiller(stream: NodeJS.ReadableStream): Filler {
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<Buffer>> | undefined;
  let pending: Buffer | undefined;
  return async (buf, offset, length, deadline) => {
    if (!pending || pending.length === 0) {
      next ??= chunks.next();
      const result = deadline === undefined ? await next : await Promise.race([next, dueAt(deadline)]);
      if (result === 'due') return 'due';
      next = undefined;
      if (result.done) return 0;
      pending = result.value;
    }
    const n = Math.min(pending.length, length);
    pending.copy(buf, offset, 0, n);
    pending = pending.subarray(n);
    return n;
  };
}

function dueAt(deadline: number): Promise<'due'> {
  return new Promise((resolve) => setTimeout(() => resolve('due'), Math.max(0, deadline - performance.now())).unref());
}

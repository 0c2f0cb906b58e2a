import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { PoolSource } from '../io/open-source.js';
import { MAX_LINE_BYTES } from '../io/split-lines.js';
import { isBlankBytes } from '../shard/is-blank-line.js';
import { growSlot, type ChunkRing, type Slot } from './chunk-ring.js';

const readFd = promisify(read);

/** Whole lines of one source in shared memory, numbered before any worker sees them. */
export interface SharedChunk {
  /** Undefined only for an over-long line, which holds no bytes. */
  slot: Slot | undefined;
  /** Byte length of the lines, from the start of the slot. */
  bytes: number;
  firstLine: number;
  firstIndex: number;
  /** Records (non-blank lines) in the chunk. */
  records: number;
  /** A line past MAX_LINE_BYTES, skipped unread: one bad record at `firstLine`. */
  overlong?: boolean;
}

/** Line and record counters that run across all sources of a run. */
export interface Numbering {
  line: number;
  index: number;
}

/**
 * Reads a source straight into ring slots and yields one chunk per read, cut after its
 * last newline; the partial line that follows is copied to the start of the next slot.
 * Regular files are read with fs.read into the shared buffer (no copy at all); pipes come
 * through their stream, one memcpy per read.
 */
export async function* readSharedChunks(source: PoolSource, ring: ChunkRing, numbering: Numbering, halted: () => boolean): AsyncGenerator<SharedChunk> {
  const fill = source.fd === undefined ? streamFiller(source.stream) : fdFiller(source.fd);
  let slot = await ring.acquire();
  let used = 0;
  while (!halted()) {
    if (used === slot.buf.length) {
      if (used < MAX_LINE_BYTES) {
        slot = growSlot(slot, used);
      } else {
        used = await skipRestOfLine(fill, slot);
        yield overlongChunk(numbering);
        continue;
      }
    }
    const n = await fill(slot.buf, used);
    if (n === 0) break;
    used += n;
    const last = slot.buf.lastIndexOf(10, used - 1);
    if (last < 0) continue;
    const next = await ring.acquire();
    slot.buf.copy(next.buf, 0, last + 1, used);
    yield numberChunk(slot, last + 1, numbering);
    used -= last + 1;
    slot = next;
  }
  // The last line of a source may lack its newline.
  if (used > 0 && !halted()) yield numberChunk(slot, used, numbering);
  else ring.release(slot);
}

/** Counts the lines and records of `slot.buf[0, bytes)` and advances the run's numbering. */
function numberChunk(slot: Slot, bytes: number, numbering: Numbering): SharedChunk {
  const buf = slot.buf;
  let lines = 0;
  let records = 0;
  for (let start = 0; start < bytes; lines++) {
    let nl = buf.indexOf(10, start);
    if (nl < 0 || nl >= bytes) nl = bytes;
    if (!isBlankBytes(buf, start, nl)) records++;
    start = nl + 1;
  }
  const chunk: SharedChunk = { slot, bytes, firstLine: numbering.line, firstIndex: numbering.index, records };
  numbering.line += lines;
  numbering.index += records;
  return chunk;
}

/** A line past MAX_LINE_BYTES: one record that is reported, never held. */
function overlongChunk(numbering: Numbering): SharedChunk {
  const chunk: SharedChunk = { slot: undefined, bytes: 0, firstLine: numbering.line, firstIndex: numbering.index, records: 1, overlong: true };
  numbering.line += 1;
  numbering.index += 1;
  return chunk;
}

/** Reads and drops bytes up to the next newline; what follows it is moved to the slot's start. */
async function skipRestOfLine(fill: Filler, slot: Slot): Promise<number> {
  for (;;) {
    const n = await fill(slot.buf, 0);
    if (n === 0) return 0;
    const nl = slot.buf.indexOf(10);
    if (nl >= 0 && nl < n) {
      slot.buf.copy(slot.buf, 0, nl + 1, n);
      return n - (nl + 1);
    }
  }
}

type Filler = (buf: Buffer, offset: number) => Promise<number>;

function fdFiller(fd: number): Filler {
  return async (buf, offset) => (await readFd(fd, buf, offset, buf.length - offset, null)).bytesRead;
}

function streamFiller(stream: NodeJS.ReadableStream): Filler {
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  return async (buf, offset) => {
    if (!pending || pending.length === 0) {
      const next = await chunks.next();
      if (next.done) return 0;
      pending = next.value;
    }
    const n = Math.min(pending.length, buf.length - offset);
    pending.copy(buf, offset, 0, n);
    pending = pending.subarray(n);
    return n;
  };
}

import { readFailure, type Source } from '../io/open-source.js';
import { isBlankBytes } from '../io/is-blank-line.js';

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from('\n');

/**
 * Pulls the records of one input line by line, as bytes, for the merges that take turns
 * between inputs. It holds one read (64 KiB) at a time, so a merge of N inputs holds N
 * reads whatever their size. Blank lines are skipped, a BOM at the start is dropped, and
 * a last line without a newline is still a line.
 */
export class LineReader {
  /** 1-based number of the line last returned, blank lines counted: the place in errors. */
  line = 0;
  /** True once every line has been returned. */
  exhausted = false;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private atStart = true;
  private ended = false;
  /** Closed by a stop: a line not yet read to its end is not a record. */
  private closed = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(private readonly source: Source) {
    this.iterator = (source.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get name(): string {
    return this.source.name;
  }

  /** The next record's bytes (no newline) if the current read holds it; else use read(). */
  take(): Buffer | undefined {
    const chunk = this.chunk;
    for (;;) {
      const nl = chunk.indexOf(10, this.pos);
      if (nl < 0) return undefined;
      const start = this.pos;
      this.pos = nl + 1;
      this.line++;
      if (!isBlankBytes(chunk, start, nl)) return chunk.subarray(start, nl);
    }
  }

  /** The next record, reading as much as it takes; undefined at the end of the input. */
  async read(): Promise<Buffer | undefined> {
    for (;;) {
      const line = this.take();
      if (line !== undefined) return line;
      if (!(await this.fill())) {
        this.exhausted = true;
        return undefined;
      }
    }
  }

  /** Stops reading (the merge ended early, was stopped, or failed). */
  close(): void {
    this.closed = true;
    this.source.stream.destroy();
  }

  /** Reads until the chunk holds a whole line: the tail of the last read plus new reads. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const parts: Buffer[] = this.pos < this.chunk.length ? [this.chunk.subarray(this.pos)] : [];
    for (;;) {
      const next = await this.nextRead();
      if (this.closed) {
        this.ended = true;
        return false;
      }
      if (next.done) {
        this.ended = true;
        // The last line had no newline: it is a record all the same.
        if (parts.length === 0) return false;
        parts.push(NEWLINE);
        break;
      }
      parts.push(next.value);
      if (next.value.indexOf(10) >= 0) break;
    }
    this.chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.pos = 0;
    if (this.atStart) {
      this.atStart = false;
      // A byte-order mark belongs to the file, not to its first record.
      if (this.chunk[0] === 0xef && this.chunk[1] === 0xbb && this.chunk[2] === 0xbf) this.pos = 3;
    }
    return true;
  }

  private async nextRead(): Promise<IteratorResult<Buffer>> {
    try {
      return await this.iterator.next();
    } catch (error) {
      if (this.closed) return { done: true, value: undefined };
      throw readFailure(this.name, error);
    }
  }
}


import { constants } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { decodeLines, type DecodedLines } from './decode-lines.js';
import { bomLength } from './line-end.js';

/** V8's longest string (2^29-24 chars in Node 20): a longer line could not be decoded at all. */
export const MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;
/** How much of an over-long line is kept for the error report. */
const EXCERPT_BYTES = 1024;

/** A run of whole lines cut from a source; `firstLine` is the 1-based number of `lines[0]`. */
export interface LineChunk extends DecodedLines {
  firstLine: number;
  /** Input bytes this chunk consumed, for progress. */
  bytes: number;
}

/**
 * Cuts a byte stream into chunks of whole lines at the last `\n` of each read. A line
 * spread over many reads is gathered as a list of buffers and joined once, so a line of
 * hundreds of MB costs one copy; a line past `maxLineBytes` is skipped without being held.
 */
export class LineSplitter {
  private rest: Buffer[] = [];
  private restBytes = 0;
  private nextLine = 1;
  private overlong = false;
  private overlongExcerpt = '';
  private atStart: boolean;

  /** `atFileStart`: the bytes begin at the start of their file, where a byte-order mark may stand. */
  constructor(options: { atFileStart?: boolean; maxLineBytes?: number } = {}) {
    this.atStart = options.atFileStart ?? true;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }
  private readonly maxLineBytes: number;

  push(buf: Buffer): LineChunk | undefined {
    if (this.atStart) {
      this.atStart = false;
      // A byte-order mark belongs to the file, not to its first record.
      buf = buf.subarray(bomLength(buf));
    }
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      this.hold(buf);
      return undefined;
    }
    const head = buf.subarray(0, last + 1);
    const chunk = this.overlong ? this.closeOverlong(head) : this.joinRest(head);
    this.rest = [];
    this.restBytes = 0;
    this.hold(buf.subarray(last + 1));
    return chunk;
  }

  /** The last line when the input does not end in `\n`. */
  end(): LineChunk | undefined {
    if (this.overlong) return this.closeOverlong(Buffer.alloc(0));
    if (this.restBytes === 0) return undefined;
    const chunk = this.decode(Buffer.concat(this.rest, this.restBytes), this.restBytes);
    this.rest = [];
    this.restBytes = 0;
    return chunk;
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    if (this.overlong) return;
    if (this.restBytes + part.length > this.maxLineBytes) {
      this.overlong = true;
      this.overlongExcerpt = Buffer.concat([...this.rest, part]).subarray(0, EXCERPT_BYTES).toString('utf8');
      this.rest = [];
      this.restBytes = 0;
      return;
    }
    // A short tail is copied so it does not pin the whole read buffer in memory.
    this.rest.push(part.length < 65536 ? Buffer.from(part) : part);
    this.restBytes += part.length;
  }

  private joinRest(head: Buffer): LineChunk {
    if (this.restBytes === 0) return this.decode(head, head.length);
    if (this.restBytes + head.indexOf(10) > this.maxLineBytes) {
      this.overlong = true;
      this.overlongExcerpt = Buffer.concat(this.rest).subarray(0, EXCERPT_BYTES).toString('utf8');
      return this.closeOverlong(head);
    }
    const total = this.restBytes + head.length;
    return this.decode(Buffer.concat([...this.rest, head], total), total);
  }

  /** Reports the over-long line as one bad line, then decodes the whole lines after it. */
  private closeOverlong(head: Buffer): LineChunk {
    const nl = head.indexOf(10);
    const line = this.nextLine;
    const after = nl < 0 ? undefined : this.decodeAfter(head.subarray(nl + 1), line + 1);
    this.overlong = false;
    const lines = [this.overlongExcerpt, ...(after?.lines ?? [])];
    const bad = new Map<number, InputError>([[0, overlongError(this.maxLineBytes)]]);
    for (const [k, why] of after?.bad ?? []) bad.set(k + 1, why);
    this.nextLine = line + lines.length;
    return { lines, bad, firstLine: line, bytes: head.length };
  }

  private decodeAfter(buf: Buffer, firstLine: number): LineChunk {
    const decoded = buf.length ? decodeLines(buf) : { lines: [], bad: undefined };
    return { ...decoded, firstLine, bytes: buf.length };
  }

  private decode(buf: Buffer, bytes: number): LineChunk {
    const decoded = decodeLines(buf);
    const chunk = { ...decoded, firstLine: this.nextLine, bytes };
    this.nextLine += decoded.lines.length;
    return chunk;
  }
}

/** The one report of a line past the length limit. */
export function overlongError(maxLineBytes = MAX_LINE_BYTES): InputError {
  return new InputError(`line longer than ${maxLineBytes} bytes`, 'read');
}

import { isBlankBytes } from '../io/is-blank-line.js';
import { ShareBuffers } from './share-buffers.js';

const NEWLINE = Buffer.from('\n');
/** The line crossing a read boundary: none, not yet known to be a record, dropped, else its share. */
const NONE = -3;
const UNDECIDED = -2;
const DROPPED = -1;

/**
 * `op shard --by index` on bytes: record i goes to rank i % world. Lines are found with
 * indexOf(10) and never decoded; consecutive lines of one share are kept as one slice, so
 * world 1 passes each read through as a single buffer. A line longer than a read is
 * streamed piece by piece once its first byte shows it is a record; only a line that
 * starts like whitespace is held until its end decides whether it is blank.
 */
export class IndexRouter {
  private readonly out: ShareBuffers;
  /** The rank of the next record, counted round instead of a modulo per line. */
  private slot = 0;
  private open = NONE;
  private held: Buffer[] = [];
  /** At a source's start: bytes held until three show whether a BOM is there. */
  private atStart = false;
  private head: Buffer | undefined;

  constructor(
    private readonly world: number,
    private readonly shareOf: Int32Array,
    shares: number,
  ) {
    this.out = new ShareBuffers(shares);
  }

  /**
   * True while part of a record has been routed and its end has not: a stop must read on
   * to that end, or the output ends in a torn line.
   */
  get midLine(): boolean {
    return this.open >= 0;
  }

  startSource(): void {
    this.atStart = true;
  }

  push(chunk: Buffer): void {
    const buf = this.skipBom(chunk);
    if (buf === undefined || buf.length === 0) return;
    let pos = 0;
    if (this.open !== NONE) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.extendOpen(buf);
        return;
      }
      this.closeOpen(buf.subarray(0, nl + 1));
      pos = nl + 1;
    }
    const { shareOf, world, out } = this;
    const len = buf.length;
    let slot = this.slot;
    let runShare = -1;
    let runStart = 0;
    let runEnd = 0;
    while (pos < len) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      if (!isBlankBytes(buf, pos, nl)) {
        const share = shareOf[slot] as number;
        if (++slot === world) slot = 0;
        if (share >= 0) {
          if (share !== runShare || runEnd !== pos) {
            if (runShare >= 0) out.add(runShare, buf.subarray(runStart, runEnd));
            runShare = share;
            runStart = pos;
          }
          runEnd = nl + 1;
        }
      }
      pos = nl + 1;
    }
    if (runShare >= 0) out.add(runShare, buf.subarray(runStart, runEnd));
    this.slot = slot;
    if (pos < len) this.openLine(buf.subarray(pos));
  }

  /** The source's last line when it has no final newline: it gets one. */
  endSource(): void {
    if (this.atStart) {
      this.atStart = false;
      const head = this.head;
      this.head = undefined;
      if (head) this.push(head);
    }
    if (this.open !== NONE) this.closeOpen(NEWLINE);
  }

  take(): Array<Buffer | undefined> {
    return this.out.take();
  }

  private skipBom(chunk: Buffer): Buffer | undefined {
    if (!this.atStart || chunk.length === 0) return chunk;
    const data = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    // A pipe may deliver the first bytes one at a time; 3 tell whether they are EF BB BF.
    if (data.length < 3 && isBomPrefix(data)) {
      this.head = Buffer.from(data);
      return undefined;
    }
    this.atStart = false;
    this.head = undefined;
    return data.length >= 3 && isBomPrefix(data.subarray(0, 3)) ? data.subarray(3) : data;
  }

  private nextShare(): number {
    const share = this.shareOf[this.slot] as number;
    if (++this.slot === this.world) this.slot = 0;
    return share;
  }

  private openLine(part: Buffer): void {
    if (mayBeBlank(part[0] as number)) {
      this.open = UNDECIDED;
      this.held = [Buffer.from(part)];
      return;
    }
    const share = this.nextShare();
    this.open = share < 0 ? DROPPED : share;
    if (share >= 0) this.out.add(share, part);
  }

  private extendOpen(part: Buffer): void {
    if (this.open === UNDECIDED) this.held.push(part);
    else if (this.open >= 0) this.out.add(this.open, part);
  }

  /** `end` is the rest of the open line, its newline included. */
  private closeOpen(end: Buffer): void {
    if (this.open === UNDECIDED) {
      const line = Buffer.concat([...this.held, end]);
      this.held = [];
      if (!isBlankBytes(line, 0, line.length - 1)) {
        const share = this.nextShare();
        if (share >= 0) this.out.add(share, line);
      }
    } else if (this.open >= 0) {
      this.out.add(this.open, end);
    }
    this.open = NONE;
  }
}

/** The first bytes isBlankBytes looks further at: space, tab, CR, and 0xEF of a BOM. */
function mayBeBlank(byte: number): boolean {
  return byte === 32 || byte === 9 || byte === 13 || byte === 0xef;
}

function isBomPrefix(data: Uint8Array): boolean {
  return data[0] === 0xef && (data.length < 2 || data[1] === 0xbb) && (data.length < 3 || data[2] === 0xbf);
}

import { isBlankBytes } from '../io/is-blank-line.js';
import { contentEnd } from '../io/line-end.js';
import type { BatchLimits } from '../records/batcher.js';

/**
 * Scans the complete lines of the slot being filled and decides where a chunk may end:
 * after its last complete line, or for `op batch` after its last complete batch, so that a
 * batch never straddles two tasks. This is the only place batches are cut: --size records,
 * or --bytes of the emitted batch line `[a,b,…]` (a single longer record alone).
 * Lines after the cut stay in the slot and are carried into the next one, already counted.
 */
export class ChunkScanner {
  /** Offset up to which lines were scanned (the start of the first unscanned line). */
  private pos = 0;
  private lines = 0;
  private records = 0;
  /** Where the chunk may end, and the lines and records before that point. */
  private cut = 0;
  private cutLines = 0;
  private cutRecords = 0;
  private batches: number[] = [];
  private openRecords = 0;
  private openBytes = 0;

  constructor(private readonly batch: BatchLimits | undefined) {}

  /** Scans the lines of `buf` up to `end` (just after a newline, or the end of input). */
  scan(buf: Buffer, end: number): void {
    while (this.pos < end) {
      let nl = buf.indexOf(10, this.pos);
      if (nl < 0 || nl >= end) nl = end;
      const start = this.pos;
      this.pos = Math.min(nl + 1, end);
      if (isBlankBytes(buf, start, nl)) {
        this.lines++;
        if (!this.batch) this.markCut();
        continue;
      }
      if (this.batch) this.addToBatch(buf, start, nl);
      else {
        this.lines++;
        this.records++;
        this.markCut();
      }
    }
  }

  /** Closes the open batch where scanning stopped (--wait, end of input). */
  closeOpenBatch(): void {
    if (this.batch && this.openRecords > 0) this.closeBatch(this.pos, this.lines, this.records);
  }

  /** The chunk that can go now, if any: its byte length, lines, records and batch sizes. */
  take(): { bytes: number; lines: number; records: number; batches: number[] | undefined } | undefined {
    if (this.cut === 0) return undefined;
    const taken = { bytes: this.cut, lines: this.cutLines, records: this.cutRecords, batches: this.batch ? this.batches : undefined };
    this.pos -= this.cut;
    this.lines -= this.cutLines;
    this.records -= this.cutRecords;
    this.cut = this.cutLines = this.cutRecords = 0;
    this.batches = [];
    return taken;
  }

  private addToBatch(buf: Buffer, start: number, nl: number): void {
    const { size, bytes } = this.batch!;
    // The batch line is `[` + the records joined by `,` + `]`: each record adds its bytes and one separator.
    const length = contentEnd(buf, nl, start) - start + 1;
    if (bytes !== undefined && this.openRecords > 0 && 1 + this.openBytes + length > bytes) this.closeBatch(start, this.lines, this.records);
    this.lines++;
    this.records++;
    this.openRecords++;
    this.openBytes += length;
    if (this.openRecords >= size) this.closeBatch(this.pos, this.lines, this.records);
  }

  private closeBatch(at: number, lines: number, records: number): void {
    this.batches.push(this.openRecords);
    this.openRecords = 0;
    this.openBytes = 0;
    this.cut = at;
    this.cutLines = lines;
    this.cutRecords = records;
  }

  private markCut(): void {
    this.cut = this.pos;
    this.cutLines = this.lines;
    this.cutRecords = this.records;
  }
}

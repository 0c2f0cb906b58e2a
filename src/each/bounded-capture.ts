import { isUtf8 } from 'node:buffer';

/** A captured stream as it goes into the record. */
export interface CapturedText {
  text: string;
  truncated: boolean;
  /** Invalid UTF-8 was replaced by U+FFFD. */
  invalidUtf8: boolean;
}

/**
 * Keeps the first `limit` bytes of a stream and counts the rest, so a job that prints
 * gigabytes costs `limit` bytes of memory, not gigabytes.
 */
export class BoundedCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  /** A stream captured elsewhere: its kept bytes and how many it held in all. */
  static of(limit: number, kept: Buffer, total: number): BoundedCapture {
    const capture = new BoundedCapture(limit);
    if (kept.length > 0) capture.push(kept);
    capture.total = total;
    return capture;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(piece);
    this.kept += piece.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    // A cut may fall inside a character: end at the last whole one rather than mark it invalid.
    return this.truncated ? buf.subarray(0, wholeCharEnd(buf)) : buf;
  }

  text(): CapturedText {
    return decodeMarked(this.bytes(), this.truncated);
  }
}

/** UTF-8 text; invalid bytes become U+FFFD and the text says so. */
export function decodeMarked(bytes: Buffer, truncated = false): CapturedText {
  const invalidUtf8 = !isUtf8(bytes);
  return { text: bytes.toString('utf8'), truncated, invalidUtf8 };
}

/** Where the last complete UTF-8 character ends (a sequence is at most 4 bytes). */
export function wholeCharEnd(buf: Buffer): number {
  const end = buf.length;
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = buf[end - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? end - back : end;
  }
  return end;
}

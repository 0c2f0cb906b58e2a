/** 4 KiB and 10 lines: enough for an error message and its cause, short enough for a terminal. */
const TAIL_BYTES = 4096;
const TAIL_LINES = 10;

/** Keeps the last few lines a run wrote to stderr, in bounded memory however much it writes. */
export class StderrTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** Other sizes for a longer memory (a persistent child's dead letters keep 20 lines). */
  constructor(
    private readonly maxLines = TAIL_LINES,
    private readonly maxBytes = TAIL_BYTES,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - (this.chunks[0]?.length ?? 0) >= this.maxBytes) {
      this.bytes -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The last lines, whole where they fit, without the final newline. */
  text(): string {
    let buf = Buffer.concat(this.chunks, this.bytes);
    if (buf.length > this.maxBytes) {
      buf = buf.subarray(buf.length - this.maxBytes);
      // Drop the first, cut line (and any UTF-8 sequence cut with it).
      const nl = buf.indexOf(10);
      if (nl >= 0 && nl < buf.length - 1) buf = buf.subarray(nl + 1);
    }
    const lines = buf.toString('utf8').replace(/\n+$/, '').split('\n');
    return lines.slice(-this.maxLines).join('\n');
  }
}

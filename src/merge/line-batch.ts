import type { Sink } from '../io/open-sink.js';

const NEWLINE = Buffer.from('\n');
/** Output gathered per write: one write per line would cost 2x (DESIGN.md section 7). */
const FLUSH_BYTES = 64 * 1024;

/** Record lines on their way out, written as one buffer of whole lines at a time. */
export class LineBatch {
  private pieces: Buffer[] = [];
  private size = 0;

  constructor(private readonly sink: Sink) {}

  add(line: Buffer): void {
    this.pieces.push(line, NEWLINE);
    this.size += line.length + 1;
  }

  get full(): boolean {
    return this.size >= FLUSH_BYTES;
  }

  /** Writes what is gathered; resolves once the sink has room again (backpressure). */
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const buf = Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    this.size = 0;
    await this.sink.write(buf);
  }
}

const NEWLINE = 0x0a;

/**
 * Cuts a worker's output, read in whatever pieces the pipe delivers, into runs of whole
 * lines. The unfinished tail is held (as a list of pieces, joined once) until its newline
 * arrives or the worker's output ends, so no line is ever written in two parts.
 */
export class LineCutter {
  private held: Buffer[] = [];
  private heldBytes = 0;

  /** `maxLine`: an unfinished line held past this many bytes is let out as a line of its own, so memory stays bounded. */
  constructor(private readonly maxLine = Number.POSITIVE_INFINITY) {}

  /** The whole lines `chunk` completes, as one buffer; undefined when it ends none. */
  push(chunk: Buffer): Buffer | undefined {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.hold(chunk);
      return this.heldBytes > this.maxLine ? this.end() : undefined;
    }
    const head = chunk.subarray(0, last + 1);
    const lines = this.heldBytes === 0 ? head : Buffer.concat([...this.held, head], this.heldBytes + head.length);
    this.held = [];
    this.heldBytes = 0;
    this.hold(chunk.subarray(last + 1));
    return lines;
  }

  /** The output ended: an unterminated last line, completed with a newline. */
  end(): Buffer | undefined {
    if (this.heldBytes === 0) return undefined;
    const line = Buffer.concat([...this.held, Buffer.from('\n')], this.heldBytes + 1);
    this.held = [];
    this.heldBytes = 0;
    return line;
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    this.held.push(part);
    this.heldBytes += part.length;
  }
}

/** `prefix` before every line of `lines` (whole lines, each ending in a newline), in one buffer. */
export function prefixLines(lines: Buffer, prefix: Buffer): Buffer {
  let count = 0;
  for (let at = lines.indexOf(NEWLINE); at >= 0; at = lines.indexOf(NEWLINE, at + 1)) count += 1;
  const out = Buffer.allocUnsafe(lines.length + count * prefix.length);
  let from = 0;
  let to = 0;
  while (from < lines.length) {
    const end = lines.indexOf(NEWLINE, from) + 1;
    to += prefix.copy(out, to);
    to += lines.copy(out, to, from, end);
    from = end;
  }
  return out;
}

import { open } from 'node:fs/promises';
import type { InputError } from '../core/errors.js';
import { LineSplitter } from '../io/split-lines.js';
import { versionOf, type FileVersion } from './file-version.js';

/** 1 MiB reads: a file appended to by gigabytes streams in bounded memory. */
const READ_BYTES = 1 << 20;

/** How far a file's records were streamed: whole lines only, so a half-written line waits. */
export interface TailPosition {
  ino: number;
  offset: number;
  lines: number;
}

export interface RecordSink {
  /** Whole NDJSON lines, `\n`-terminated, in file order; a promise means "wait, I am full". */
  records(text: string): Promise<void> | undefined;
  /** A line that is not a JSON value: reported, skipped, never fatal. */
  problem(line: number, message: string, excerpt: string): void;
}

/**
 * Streams the records appended to `path` since `from` and returns the new position, with
 * the version it read. A file with another inode, or shorter than the position (truncated,
 * replaced), is read from its start. Reading stops at the size seen on opening (the next
 * event picks up the rest) or between chunks when `signal` aborts.
 */
export async function streamNewRecords(path: string, from: TailPosition | undefined, sink: RecordSink, signal?: AbortSignal): Promise<{ position: TailPosition; version: FileVersion }> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    const { ino, size } = stats;
    const start = from !== undefined && from.ino === ino && from.offset <= size ? from : { ino, offset: 0, lines: 0 };
    const splitter = new LineSplitter({ atFileStart: start.offset === 0 });
    let lines = start.lines;
    let consumed = start.offset;
    let at = start.offset;
    const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, size - at)));
    while (at < size && signal?.aborted !== true) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) break;
      // The splitter keeps a view of what it holds back, so hand it a copy of the shared buffer.
      const block = Buffer.from(buf.subarray(0, bytesRead));
      const nl = block.lastIndexOf(10);
      if (nl >= 0) consumed = at + nl + 1;
      at += bytesRead;
      const chunk = splitter.push(block);
      if (chunk === undefined) continue;
      const text = validLines(chunk.lines, chunk.bad, start.lines + chunk.firstLine, sink);
      lines = start.lines + chunk.firstLine - 1 + chunk.lines.length;
      if (text !== '') await sink.records(text);
    }
    return { position: { ino, offset: consumed, lines }, version: versionOf(stats) };
  } finally {
    await handle.close();
  }
}

/** The position just past the last whole line: where `tail -n 0` would start. */
export async function positionAtEnd(path: string): Promise<TailPosition> {
  const handle = await open(path, 'r');
  try {
    const { ino, size } = await handle.stat();
    const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, size)));
    let lines = 0;
    let offset = 0;
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) {
        lines++;
        offset = at + i + 1;
      }
      at += bytesRead;
    }
    return { ino, offset, lines };
  } finally {
    await handle.close();
  }
}

/** Checks each line is one JSON value and joins the good ones; the text is passed on as written. */
function validLines(lines: string[], bad: Map<number, InputError> | undefined, firstLine: number, sink: RecordSink): string {
  let text = '';
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    const number = firstLine + i;
    const why = bad?.get(i);
    if (why !== undefined) {
      sink.problem(number, why.message, line);
      continue;
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    try {
      JSON.parse(line);
    } catch (error) {
      sink.problem(number, `${(error as Error).name}: ${(error as Error).message}`, line);
      continue;
    }
    text += line + '\n';
  }
  return text;
}

/** 250 ms: often enough to look live, rare enough to cost nothing next to the records. */
const TERMINAL_MS = 250;
/** Into a log file or a CI console a redrawn line is noise: one plain line every 5 s instead. */
const PLAIN_MS = 5000;
/** Back to the start of the line, and clear it (ECMA-48 CR + EL). */
const CLEAR = '\r\x1b[K';

export interface StatusLineOptions {
  stream?: NodeJS.WriteStream | undefined;
  /** How often the line is redrawn on a terminal. */
  terminalMs?: number | undefined;
  /** How often a plain line is written when the stream is not a terminal. */
  plainMs?: number | undefined;
}

type Done = (error?: Error | null) => void;
/** stream.write's overloads as one signature: (chunk, callback) or (chunk, encoding, callback). */
type Write = (chunk: string | Uint8Array, encoding?: BufferEncoding | Done, callback?: Done) => boolean;

/**
 * A status line on stderr. On a terminal it is redrawn in place, cut to the terminal's
 * width, and kept below everything else: while it is shown, every write to the stream
 * (ctx.log, warnings, a worker thread's stderr, console.error) first clears it and then
 * draws it again under what was written. Elsewhere it is a plain line every few seconds.
 * `render` gets the columns available (undefined when not a terminal). Returns `end`,
 * which writes the final line and gives the stream back.
 */
export function showStatusLine(render: (columns: number | undefined) => string, options: StatusLineOptions = {}): () => void {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return showPlainLines(stream, render, options.plainMs ?? PLAIN_MS);
  const original = stream.write as Write;
  const ownWrite = Object.hasOwn(stream, 'write');
  const write = (text: string): boolean => original.call(stream, text);
  /** Columns the line may take: one fewer than the terminal's, so the cursor never wraps. */
  const columns = (): number => Math.max(1, (stream.columns || 80) - 1);
  const line = (): string => fitColumns(render(columns()), columns());
  let shown = false;
  /** False after a write that did not end its line: the line is drawn again after the next one that does. */
  let atLineStart = true;
  const draw = (): void => {
    if (!atLineStart) return;
    write(CLEAR + line());
    shown = true;
  };
  const intercept: Write = (chunk, encoding, callback) => {
    if (chunk.length === 0) return original.call(stream, chunk, encoding, callback);
    const clear = shown ? CLEAR : '';
    shown = false;
    atLineStart = (typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1]) === 10;
    if (typeof chunk === 'string' && typeof encoding !== 'string') {
      // One write: the line cleared, the text, and the line drawn again below it.
      const after = atLineStart ? line() : '';
      shown = after !== '';
      return original.call(stream, clear + chunk + after, encoding);
    }
    if (clear) write(clear);
    const ok = original.call(stream, chunk, encoding, callback);
    draw();
    return ok;
  };
  stream.write = intercept as NodeJS.WriteStream['write'];
  const timer = setInterval(draw, options.terminalMs ?? TERMINAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (ownWrite) stream.write = original as NodeJS.WriteStream['write'];
    else delete (stream as { write?: unknown }).write;
    write((shown ? CLEAR : atLineStart ? '' : '\n') + line() + '\n');
  };
}

function showPlainLines(stream: NodeJS.WriteStream, render: (columns: number | undefined) => string, everyMs: number): () => void {
  const timer = setInterval(() => stream.write(render(undefined) + '\n'), everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write(render(undefined) + '\n');
  };
}

/** `text` cut to `columns` characters (by code point, so a cut never splits a surrogate pair). */
export function fitColumns(text: string, columns: number): string {
  if (text.length <= columns) return text;
  return Array.from(text).slice(0, columns).join('');
}

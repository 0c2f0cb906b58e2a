import { OpError, describeCause } from './errors.js';
import { isInstance } from './is-instance.js';

/** How much of an offending line is shown under the message. */
const EXCERPT_WIDTH = 100;

/**
 * The compiler-style report of a failure: `op map: stdin:42: SyntaxError: …`, then the
 * line (cut to a sane width, control characters made visible) and a caret when the
 * message gives a position. The stack only with `--debug`.
 */
export function formatError(error: unknown, command: string, debug = false): string {
  let text: string;
  if (isInstance(error, OpError)) {
    const where = error.place ? `${error.place.source}:${error.place.line}: ` : '';
    text = `${command}: ${where}${visible(error.message)}\n`;
    if (error.excerpt !== undefined) text += showExcerpt(error.excerpt, positionIn(error.message));
    const frame = debug ? undefined : error.thrownAt;
    if (frame !== undefined) text += `  thrown at ${frame}\n`;
    for (const line of error.quote ?? []) text += `  | ${visible(line)}\n`;
  } else {
    text = `${command}: ${visible(describeCause(error))}\n`;
  }
  if (debug) text += stackOf(error);
  return text;
}

function showExcerpt(line: string, position: number | undefined): string {
  let start = 0;
  if (position !== undefined && position > EXCERPT_WIDTH - 20) start = position - (EXCERPT_WIDTH - 20);
  const cut = line.slice(start, start + EXCERPT_WIDTH);
  const shown = (start > 0 ? '…' : '') + visible(cut) + (start + EXCERPT_WIDTH < line.length ? '…' : '');
  let text = `  ${shown}\n`;
  if (position !== undefined && position >= start && position <= start + cut.length) {
    text += `  ${' '.repeat(visible(line.slice(start, position)).length + (start > 0 ? 1 : 0))}^\n`;
  }
  return text;
}

/** NUL and other control characters would garble a terminal; show them as escapes. */
function visible(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it makes visible.
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function positionIn(message: string): number | undefined {
  const match = /at position (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

function stackOf(error: unknown): string {
  let text = '';
  for (let e: unknown = error; isInstance(e, Error); e = e.cause) text += `${e.stack ?? e.message}\n`;
  return text;
}

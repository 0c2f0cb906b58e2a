import { fileURLToPath } from 'node:url';
import { OpError, RecordError, describeCause } from './errors.js';

/** How much of an offending line is shown under the message. */
const EXCERPT_WIDTH = 100;

/**
 * The compiler-style report of a failure: `op map: stdin:42: SyntaxError: …`, then the
 * line (cut to a sane width, control characters made visible) and a caret when the
 * message gives a position. The stack only with `--debug`.
 */
export function formatError(error: unknown, command: string, debug = false): string {
  let text: string;
  if (error instanceof OpError) {
    const where = error.place ? `${error.place.source}:${error.place.line}: ` : '';
    text = `${command}: ${where}${visible(error.message)}\n`;
    if (error.excerpt !== undefined) text += showExcerpt(error.excerpt, positionIn(error.message));
    const frame = error instanceof RecordError && !debug ? handlerFrame(error.cause) : undefined;
    if (frame !== undefined) text += `  thrown at ${frame}\n`;
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
  for (let e: unknown = error; e instanceof Error; e = e.cause) text += `${e.stack ?? e.message}\n`;
  return text;
}

/** opkit's own code (this file is dist/src/core/): frames in it are the machinery, never the handler. */
const OWN_CODE = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../bin/', import.meta.url))];

/**
 * Where in the user's code a record's error was thrown: the first frame of its stack in a
 * file that is neither Node's, a dependency's (node_modules) nor opkit's, so a handler
 * module's `handler.mjs:4:14` without --debug. An expression or function given on the
 * command line has no file, and gets no frame.
 */
export function handlerFrame(cause: unknown): string | undefined {
  if (!(cause instanceof Error) || typeof cause.stack !== 'string') return undefined;
  for (const line of cause.stack.split('\n').slice(1)) {
    if (!/^\s+at /.test(line)) continue;
    const place = framePlace(line);
    if (place === undefined || place.file.includes('/node_modules/') || OWN_CODE.some((dir) => place.file.startsWith(dir))) continue;
    return `${shortPath(place.file)}${place.at}`;
  }
  return undefined;
}

function framePlace(line: string): { file: string; at: string } | undefined {
  // tsx runs a CommonJS TypeScript module from a data: URL whose filePath names the file;
  // its line numbers are of the transpiled text, so only the file is named.
  const data = /[?&]filePath=([^:&)]+)/.exec(line);
  if (data?.[1] !== undefined && line.includes('data:')) return { file: decodeURIComponent(data[1]).replace(/\?namespace=[\w-]+$/, ''), at: '' };
  const match = /(?:\(|at )((?:file:\/\/)?\/[^()\s]*?):(\d+):(\d+)\)?$/.exec(line);
  if (!match?.[1]) return undefined;
  const file = match[1].startsWith('file://') ? fileURLToPath(match[1]) : match[1];
  return { file, at: `:${match[2]}:${match[3]}` };
}

/** Relative to the working directory when under it, as the user named the module. */
function shortPath(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

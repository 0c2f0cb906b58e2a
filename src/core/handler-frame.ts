import { isInstance } from './is-instance.js';
import { fileURLToPath } from 'node:url';

/** opkit's own code (this file is dist/src/core/): frames in it are the machinery, never the handler. */
const OWN_CODE = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../bin/', import.meta.url))];

/**
 * Where in the user's code a record's error was thrown: the first frame of its stack in a
 * file that is neither Node's, a dependency's (node_modules) nor opkit's, so a handler
 * module's `handler.mjs:4:14` without --debug. An expression or function given on the
 * command line has no file, and gets no frame.
 */
export function handlerFrame(cause: unknown): string | undefined {
  let stack: unknown;
  try {
    stack = isInstance(cause, Error) ? cause.stack : undefined;
  } catch {
    return undefined;
  }
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n').slice(1)) {
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

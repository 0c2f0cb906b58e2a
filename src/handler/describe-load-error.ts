import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { causeParts } from '../core/errors.js';

/**
 * Why a handler module did not load, as one line with the place in the module:
 * `SyntaxError: /x/h.mjs:3:1: Unexpected token '}'`, `Error: /x/h.ts:1: Cannot find
 * module './nothere.js'`. Node's ESM loader gives a syntax error no position (it only
 * prints one for an uncaught error) and tsx names a module by an internal
 * `?namespace=…` URL; neither helps a user find the line.
 */
export function describeLoadError(error: unknown, path: string): string {
  const { name, message } = causeParts(error);
  // tsx's esbuild: `Transform failed with 1 error: /x/h.ts:2:20: ERROR: Unexpected "="`.
  const transform = /^Transform failed with \d+ errors?: (.+?:\d+:\d+): ERROR: (.*)$/.exec(message);
  if (transform) return `SyntaxError: ${transform[1]}: ${transform[2]}`;
  const text = withoutTsxUrls(message);
  if (name === 'SyntaxError' && !/:\d+:\d+/.test(text)) {
    const at = findSyntaxError(path);
    if (at !== undefined) return `SyntaxError: ${at}: ${text}`;
  }
  // CommonJS names the specifier as written; ESM names the file it resolved to, and the importer.
  const missing = /^Cannot find (module|package) '([^']+)'(?: imported from (.*))?$/.exec(text);
  if (missing?.[2] !== undefined && (missing[3] === undefined || missing[3] === path)) {
    const found = findImport(path, missing[2]);
    if (found !== undefined) return `${name}: ${path}:${found.line}: Cannot find ${missing[1]} '${found.specifier}'`;
  }
  return `${name}: ${text}`;
}

/** `/x/h.ts?namespace=1f8f…` is /x/h.ts; the CommonJS `Require stack: - …` names only it. */
function withoutTsxUrls(message: string): string {
  return message
    .replace(/\s*Require stack:.*$/, '')
    .replace(/\?namespace=[\w-]+/g, '')
    .trim();
}

/**
 * `file:line:col` of the first syntax error in the module, from `node --check`, the only
 * way Node reports it: the path and line, the source line, then a caret under the column.
 * It runs only after a load failed, so the ~40 ms it costs is off every normal path.
 */
function findSyntaxError(path: string): string | undefined {
  try {
    execFileSync(process.execPath, ['--check', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    const [where, , caret] = stderr.split('\n');
    const at = /^(.*):(\d+)$/.exec(where ?? '');
    if (!at || at[1] !== path) return undefined;
    const column = caret?.indexOf('^') ?? -1;
    return column < 0 ? `${path}:${at[2]}` : `${path}:${at[2]}:${column + 1}`;
  }
}

/**
 * The 1-based line of the module's own import of `wanted` (a specifier as written, or the
 * absolute path it resolved to), and the specifier as written there.
 */
function findImport(path: string, wanted: string): { line: number; specifier: string } | undefined {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = source.split('\n');
  for (const [index, line] of lines.entries()) {
    for (const match of line.matchAll(/(['"])([^'"]+)\1/g)) {
      const specifier = match[2]!;
      if (specifier === wanted || (specifier.startsWith('.') && resolve(dirname(path), specifier) === wanted)) return { line: index + 1, specifier };
    }
  }
  return undefined;
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, describeCause } from '../core/errors.js';
import type { Context } from '../core/types.js';

/** HANDLER as given on the command line, classified; plain data so a worker can rebuild it. */
export type HandlerSpec =
  | { type: 'expression'; text: string }
  | { type: 'function'; text: string }
  | { type: 'module'; path: string }
  | { type: 'builtin'; name: 'flatten' | 'group' }
  /** Built by the caller (op each); main thread only, as a function cannot cross to a worker. */
  | { type: 'prebuilt'; loaded: LoadedHandler };

export type HandlerFn = (record: unknown, ctx: Context) => unknown;

export interface LoadedHandler {
  fn: HandlerFn;
  /**
   * False when the handler cannot see a context: an expression that never names `ctx` or
   * `i`, or a function declaring one parameter. The engine then skips building one per record.
   */
  wantsContext: boolean;
  setup: ((ctx: Context) => unknown) | undefined;
  teardown: ((ctx: Context) => unknown) | undefined;
}

const MODULE_EXT = /\.(?:m?js|cjs|m?ts)$/i;
const FUNCTION_TEXT = /^\s*(?:async\s+)?(?:function\b|\((?:[^()]|\([^()]*\))*\)\s*=>|[\p{L}_$][\p{L}\p{N}_$]*\s*=>)/u;

/**
 * Decides what HANDLER is. A module path must exist (or be written as a path) so that an
 * expression such as `r.ts` is never mistaken for a file.
 */
export function classifyHandler(text: string, cwd = process.cwd()): HandlerSpec {
  if (text.trim() === '') throw new UsageError('HANDLER is empty');
  const looksLikePath = /^(?:\.{1,2}\/|\/|~\/)/.test(text);
  if (MODULE_EXT.test(text) && !text.includes('\n')) {
    const path = resolve(cwd, text);
    if (existsSync(path)) return { type: 'module', path };
    if (looksLikePath) throw new UsageError(`handler module not found: ${text}`);
  }
  if (looksLikePath && !FUNCTION_TEXT.test(text)) throw new UsageError(`handler module not found: ${text} (modules end in .js, .mjs, .cjs, .ts or .mts)`);
  return FUNCTION_TEXT.test(text) ? { type: 'function', text } : { type: 'expression', text };
}

/** Compiles or imports the handler; every failure is a usage error raised before input is read. */
export async function loadHandler(spec: HandlerSpec): Promise<LoadedHandler> {
  switch (spec.type) {
    case 'builtin':
      return { fn: spec.name === 'flatten' ? flatten : group, wantsContext: false, setup: undefined, teardown: undefined };
    case 'expression': {
      // Conservative: `r.i` also counts as naming `i`, which only costs the context.
      const wantsContext = /\b(?:ctx|i)\b/.test(spec.text);
      const fn = wantsContext ? compile(['r', 'ctx'], `const i = ctx.index;\nreturn (${spec.text}\n);`) : compile(['r'], `return (${spec.text}\n);`);
      return { fn, wantsContext, setup: undefined, teardown: undefined };
    }
    case 'function': {
      const made = compile([], `return (${spec.text}\n);`)(undefined, undefined as never);
      if (typeof made !== 'function') throw new UsageError('HANDLER does not evaluate to a function');
      return { fn: made as HandlerFn, wantsContext: made.length !== 1, setup: undefined, teardown: undefined };
    }
    case 'module':
      return importModule(spec.path);
    case 'prebuilt':
      return spec.loaded;
  }
}

function group(records: unknown): unknown {
  return records;
}

function flatten(record: unknown): unknown {
  return Array.isArray(record) ? record : [record];
}

function compile(params: string[], body: string): HandlerFn {
  try {
    // The handler is the user's own code from the command line; records only ever arrive as arguments.
    return new Function(...params, body) as HandlerFn;
  } catch (error) {
    throw new UsageError(`HANDLER does not compile: ${describeCause(error)}`, { cause: error });
  }
}

async function importModule(path: string): Promise<LoadedHandler> {
  let mod: Record<string, unknown>;
  try {
    mod = /\.m?ts$/i.test(path) ? await importTypeScript(path) : await import(pathToFileURL(path).href);
  } catch (error) {
    throw new UsageError(`cannot load handler module ${path}: ${describeCause(error)}`, { cause: error });
  }
  // CommonJS modules (and TypeScript compiled to them) arrive as `{ default: module.exports }`.
  const inner = mod.default as Record<string, unknown> | undefined;
  const fn = typeof inner === 'function' ? inner : inner?.default;
  if (typeof fn !== 'function') throw new UsageError(`handler module ${path} has no default export function`);
  const named = (name: string): ((ctx: Context) => unknown) | undefined => {
    const value = mod[name] ?? inner?.[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') throw new UsageError(`handler module ${path}: export "${name}" is not a function`);
    return value as (ctx: Context) => unknown;
  };
  return { fn: fn as HandlerFn, wantsContext: fn.length !== 1, setup: named('setup'), teardown: named('teardown') };
}

/** TypeScript runs without a build step: tsx transpiles it on import, scoped to this import. */
async function importTypeScript(path: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
}

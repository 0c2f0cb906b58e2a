import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, describeCause } from '../core/errors.js';
import type { Context } from '../core/types.js';
import { describeLoadError } from './describe-load-error.js';

/** HANDLER as given on the command line, classified; plain data so a worker can rebuild it. */
export type HandlerSpec =
  | { type: 'expression'; text: string }
  | { type: 'function'; text: string }
  | { type: 'module'; path: string }
  | { type: 'builtin'; name: 'flatten' | 'group' }
  /** Built by the caller (op each); main thread only, as a function cannot cross to a worker. */
  | { type: 'prebuilt'; loaded: LoadedHandler; identity: string }
  /** A program after `--`, run as persistent child processes (executors/processes.ts), never in this process. */
  | { type: 'command'; argv: string[]; protocol: 'lines' | 'json' };

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

/** A bare word with a module's extension (`nosuch.ts`), or any text with a `/` that is not code. */
const MODULE_NAME = /^[\w@~./-]+$/;

/**
 * Decides what HANDLER is. Text that names a module (it ends in .js .mjs .cjs .ts .mts,
 * or contains a /) is a module, and must exist: `op map nosuch.ts` evaluated as the
 * expression `nosuch.ts` would fail only per record, and pass on empty input. An
 * expression such as `r.ts` or `r.a / 2` is not a name of a file: it has characters no
 * module name has, or it is a property of `r`, `i` or `ctx`.
 */
export function classifyHandler(text: string, cwd = process.cwd()): HandlerSpec {
  if (text.trim() === '') throw new UsageError('HANDLER is empty');
  if (FUNCTION_TEXT.test(text)) return { type: 'function', text };
  if (namesModule(text)) {
    const path = resolve(cwd, text.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
    if (existsSync(path)) return { type: 'module', path };
    throw new UsageError(`handler module not found: ${text}`);
  }
  return { type: 'expression', text };
}

function namesModule(text: string): boolean {
  if (!MODULE_NAME.test(text)) return false;
  if (/^(?:r|i|ctx)(?![\w$])/.test(text)) return false;
  return MODULE_EXT.test(text) || text.includes('/');
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
    case 'command':
      return { fn: runsElsewhere, wantsContext: false, setup: undefined, teardown: undefined };
  }
}

function runsElsewhere(): never {
  throw new Error('a command handler runs in its child processes');
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
    throw new UsageError(`cannot load handler module ${path}: ${describeLoadError(error, path)}`, { cause: error });
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

import { pathToFileURL } from 'node:url';
import { UsageError, describeCause } from '../core/errors.js';
import { classifyHandler } from '../handler/load-handler.js';
import type { Aggregator, KeyThunk, StepContext } from './aggregator.js';

/** The handler form as given: texts of --init/--step/--merge/--final, or a module path. */
export interface HandlerParts {
  init: string | undefined;
  step: string | undefined;
  merge: string | undefined;
  final: string | undefined;
  module: string | undefined;
}

type Fn = (...args: unknown[]) => unknown;

/** Rough bytes per character of a state's JSON once it is held as objects (see builtin-aggregates textSize). */
const BYTES_PER_CHAR = 2;

/**
 * Compiles the handler form. Each part is an expression over its named variables
 * (`acc`, `r`, `ctx`; `a`, `b`; `acc`, `key`) or a function; a module exports the same
 * four names. Compiled once, before any input is read; records only arrive as arguments.
 */
export async function handlerAggregator(parts: HandlerParts): Promise<Aggregator> {
  const mod = parts.module === undefined ? {} : await importParts(parts.module);
  const init = mod.init ?? (parts.init === undefined ? undefined : compilePart('--init', parts.init, ['key', 'ctx']));
  const step = mod.step ?? (parts.step === undefined ? undefined : compilePart('--step', parts.step, ['acc', 'r', 'ctx']));
  const merge = mod.merge ?? (parts.merge === undefined ? undefined : compilePart('--merge', parts.merge, ['a', 'b']));
  const final = mod.final ?? (parts.final === undefined ? undefined : compilePart('--final', parts.final, ['acc', 'key']));
  if (typeof step !== 'function') throw new UsageError(parts.module === undefined ? 'op reduce needs --agg, --collect, --step or a module' : `module ${parts.module} exports no step function`);
  const initial = mod.initValue;
  return {
    mergeable: merge !== undefined,
    sync: false,
    wantsKey: final !== undefined,
    init: (key: KeyThunk, ctx: StepContext) => (init ? init(key(), ctx) : initial === undefined ? undefined : structuredClone(initial)),
    step: (acc, record, ctx) => step(acc, record, ctx),
    merge: (a, b) => {
      if (!merge) throw new UsageError('partial results cannot be combined without --merge');
      return merge(a, b);
    },
    output: (acc, key) => ({ value: final ? final(acc, key) : acc }),
    freeze: (acc) => acc,
    thaw: (frozen) => frozen,
    sizeOf: (acc) => 16 + BYTES_PER_CHAR * (JSON.stringify(acc)?.length ?? 0),
  };
}

interface ModuleParts {
  init?: Fn;
  /** A module may export `init` as a plain value: each group starts from a copy of it. */
  initValue?: unknown;
  step?: Fn;
  merge?: Fn;
  final?: Fn;
}

function compilePart(flag: string, text: string, params: string[]): Fn {
  const spec = classifyHandler(text);
  if (spec.type === 'module') throw new UsageError(`${flag} takes an expression or a function; give a module as the MODULE argument`);
  try {
    // The user's own code from the command line, compiled once; records only ever arrive as arguments.
    if (spec.type === 'expression') return new Function(...params, `return (${text}\n);`) as Fn;
    const made = new Function(`return (${text}\n);`)() as unknown;
    if (typeof made !== 'function') throw new TypeError('not a function');
    return made as Fn;
  } catch (error) {
    throw new UsageError(`${flag} does not compile: ${describeCause(error)}`, { cause: error });
  }
}

async function importParts(path: string): Promise<ModuleParts> {
  const spec = classifyHandler(path);
  if (spec.type !== 'module') throw new UsageError(`reduce module not found: ${path}`);
  let mod: Record<string, unknown>;
  try {
    const url = pathToFileURL(spec.path).href;
    mod = /\.m?ts$/i.test(spec.path) ? ((await (await import('tsx/esm/api')).tsImport(url, import.meta.url)) as Record<string, unknown>) : await import(url);
  } catch (error) {
    throw new UsageError(`cannot load reduce module ${path}: ${describeCause(error)}`, { cause: error });
  }
  // CommonJS (and TypeScript compiled to it) arrives as `{ default: module.exports }`.
  const inner = (mod.default ?? {}) as Record<string, unknown>;
  const pick = (name: string): unknown => mod[name] ?? inner[name];
  const out: ModuleParts = {};
  for (const name of ['step', 'merge', 'final'] as const) {
    const value = pick(name);
    if (value === undefined) continue;
    if (typeof value !== 'function') throw new UsageError(`reduce module ${path}: export "${name}" is not a function`);
    out[name] = value as Fn;
  }
  const init = pick('init');
  if (typeof init === 'function') out.init = init as Fn;
  else out.initValue = init;
  return out;
}

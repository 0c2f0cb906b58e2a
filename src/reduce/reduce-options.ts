import { tmpdir } from 'node:os';
import { UsageError } from '../core/errors.js';
import { loadConfig } from '../handler/load-config.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { resolveWorkers } from '../executors/resolve-workers.js';
import { resolveRank } from '../core/resolve-rank.js';
import type { HandlerParts } from './handler-aggregator.js';
import { parseDuration, parseSize } from './parse-units.js';
import type { LatePolicy } from './reduce-step.js';
import { parseWindow, type WindowSpec } from './window-spec.js';

export interface ReduceOptions {
  inputs: string[];
  output: string | undefined;
  key: string[];
  /** `--agg LIST`, as written. */
  agg: string | undefined;
  collect: boolean;
  handler: HandlerParts;
  window: WindowSpec | undefined;
  time: string | undefined;
  lateness: number;
  late: LatePolicy;
  maxMemory: number;
  maxMemoryText: string;
  spillDir: string;
  errors: string | undefined;
  maxErrors: number | undefined;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  idField: string | undefined;
  config: unknown;
  stats: boolean;
  progress: boolean;
  /** Worker threads; 0 reduces on the main thread. */
  workers: number;
}

/** The flags of `op reduce`, as oclif parses them. */
export interface ReduceFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  key?: string | undefined;
  agg?: string | undefined;
  collect: boolean;
  init?: string | undefined;
  step?: string | undefined;
  merge?: string | undefined;
  final?: string | undefined;
  window?: string | undefined;
  time?: string | undefined;
  lateness: string;
  late: LatePolicy;
  'max-memory': string;
  'spill-dir'?: string | undefined;
  errors?: string | undefined;
  'max-errors'?: number | undefined;
  retries: number;
  'retry-delay': number;
  timeout?: number | undefined;
  id?: string | undefined;
  config?: string | undefined;
  stats: boolean;
  progress?: boolean | undefined;
  workers?: string | undefined;
}

/** Flags → one options object; every inconsistency is a usage error before any input is read. */
export function reduceOptions(flags: ReduceFlags, module: string | undefined): ReduceOptions {
  if (flags.key === undefined) throw new UsageError('--key FIELD[,FIELD…] is required');
  const key = flags.key.split(',').map((field) => field.trim());
  if (key.some((field) => field === '')) throw new UsageError(`--key takes FIELD[,FIELD…], got ${JSON.stringify(flags.key)}`);
  const handlerGiven = module !== undefined || flags.step !== undefined;
  const forms = [flags.agg !== undefined, flags.collect, handlerGiven].filter(Boolean).length;
  if (forms !== 1) throw new UsageError('op reduce takes exactly one of --agg LIST, --collect, or a handler (--step, or a MODULE)');
  if (!handlerGiven && (flags.init ?? flags.merge ?? flags.final) !== undefined) throw new UsageError('--init, --merge and --final belong to the handler form: give --step too');
  if (module !== undefined && (flags.init ?? flags.step ?? flags.merge ?? flags.final) !== undefined) throw new UsageError('a MODULE exports init, step, merge and final itself; drop --init/--step/--merge/--final');
  const window = flags.window === undefined ? undefined : parseWindow(flags.window);
  if (flags.time !== undefined && (window === undefined || window.type === 'count')) throw new UsageError('--time needs a time window: --window tumbling:D, sliding:D/STEP or session:GAP');
  const { rank, world } = resolveRank({}, process.env, { required: false });
  return {
    inputs: flags.in?.length ? flags.in : ['-'],
    output: fillRankTemplate(flags.out, { rank, world }),
    key,
    agg: flags.agg,
    collect: flags.collect,
    handler: { init: flags.init, step: flags.step, merge: flags.merge, final: flags.final, module },
    window,
    time: flags.time,
    lateness: parseDuration(flags.lateness, '--lateness'),
    late: flags.late,
    maxMemory: parseSize(flags['max-memory'], '--max-memory'),
    maxMemoryText: flags['max-memory'],
    spillDir: flags['spill-dir'] ?? tmpdir(),
    errors: flags.errors,
    maxErrors: flags['max-errors'],
    retries: flags.retries,
    retryDelay: flags['retry-delay'],
    timeout: flags.timeout,
    idField: flags.id,
    config: loadConfig(flags.config),
    stats: flags.stats,
    progress: flags.progress ?? process.stderr.isTTY === true,
    workers: flags.workers === undefined ? 0 : resolveWorkers(flags.workers, (message) => process.stderr.write(`op reduce: ${message}\n`)),
  };
}

import { UsageError } from '../core/errors.js';
import type { BatchLimits } from '../records/batcher.js';
import { loadConfig } from '../handler/load-config.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { classifyHandler } from '../handler/load-handler.js';
import type { OperatorOptions } from '../engine/run-operator.js';
import { startThreadsEarly } from '../engine/chunk-setup.js';
import { parseDuration, parseSideSpecs, type SideSpec } from '../engine/side-specs.js';
import { resolveWorkers } from '../executors/resolve-workers.js';
import type { Kind } from '../core/errors.js';
import { resolveRank } from '../core/resolve-rank.js';
import type { StepSetup } from '../records/run-steps.js';
import { reportError } from '../io/report-error.js';
import { parseBytes } from '../core/parse-bytes.js';
import type { QueueOptions } from '../engine/queue-source.js';
import { parseQueueUrl } from '../queue/queue-url.js';

const DEFAULT_GROUP = 'opkit';
const DEFAULT_VISIBILITY_MS = 60_000;
const DEFAULT_MAX_DELIVERIES = 5;

/** The flags every handler command parses (see commands/base-flags.ts). */
export interface HandlerCommandFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  /** Not a flag of op batch: its input is NDJSON. */
  'input-format'?: 'ndjson' | 'json' | undefined;
  concurrency: number;
  unordered: boolean;
  retries: number;
  'retry-delay': number;
  timeout?: number | undefined;
  errors?: string | undefined;
  'max-errors'?: number | undefined;
  id?: string | undefined;
  journal?: string | undefined;
  fsync?: 'always' | 'batch' | 'never' | undefined;
  'resume-failed'?: boolean | undefined;
  force?: boolean | undefined;
  config?: string | undefined;
  workdir?: string | undefined;
  'keep-workdirs': boolean;
  stats: boolean;
  quiet: boolean;
  'stop-timeout': number;
  progress?: boolean | undefined;
  debug: boolean;
  workers?: string | undefined;
  side?: string[] | undefined;
  every?: string | undefined;
  /** op batch only. */
  size?: number | undefined;
  bytes?: string | undefined;
  wait?: number | undefined;
  from?: string | undefined;
  to?: string | undefined;
  group?: string | undefined;
  visibility?: number | undefined;
  'max-deliveries'?: number | undefined;
  drain?: boolean | undefined;
  /** With a command after `--`. */
  protocol?: 'lines' | 'json' | undefined;
  'max-restarts'?: number | undefined;
}

/** Replacements of failed children allowed within a minute, by default. */
const DEFAULT_MAX_RESTARTS = 10;

/** Flags → engine options → exit status. Every failure is reported here, once. */
export async function runHandlerCommand(command: string, kind: Kind, handlerText: string | undefined, flags: HandlerCommandFlags, steps?: StepSetup[], argv?: string[]): Promise<number> {
  // Handler output must never reach stdout, which carries the records.
  console.log = console.info = console.debug = console.error;
  try {
    checkCommandFlags(flags, argv);
    const { rank, world } = resolveRank({}, process.env, { required: false });
    const options: OperatorOptions = {
      command,
      kind,
      handler: argv ? { type: 'command', argv, protocol: flags.protocol ?? 'lines' } : handlerText === undefined ? { type: 'builtin', name: kind === 'batch' ? 'group' : 'flatten' } : classifyHandler(handlerText),
      inputs: flags.from !== undefined ? [] : flags.in?.length ? flags.in : ['-'],
      output: fillRankTemplate(flags.out, { rank, world }),
      inputFormat: flags['input-format'] ?? 'ndjson',
      concurrency: flags.concurrency,
      unordered: flags.unordered,
      retries: flags.retries,
      retryDelay: flags['retry-delay'],
      timeout: flags.timeout,
      errors: flags.errors,
      maxErrors: flags['max-errors'],
      idField: flags.id,
      config: loadConfig(flags.config),
      workdir: flags.workdir,
      keepWorkdirs: flags['keep-workdirs'],
      stats: flags.stats,
      quiet: flags.quiet,
      stopTimeout: flags['stop-timeout'],
      progress: flags.progress ?? process.stderr.isTTY === true,
      rank,
      world,
      workers: flags.workers === undefined ? (argv ? 1 : 0) : resolveWorkers(flags.workers, (message) => process.stderr.write(`${command}: ${message}\n`)),
      maxRestarts: flags['max-restarts'] ?? DEFAULT_MAX_RESTARTS,
      batch: kind === 'batch' ? batchLimits(flags) : undefined,
      journal: flags.journal === undefined ? undefined : { path: flags.journal, fsync: flags.fsync ?? 'batch', force: flags.force === true, resumeFailed: flags['resume-failed'] === true },
      ...sideOptions(flags),
      steps,
      queue: queueOptions(flags),
    };
    // The threads start on the other core while the engine's modules load here.
    options.early = startThreadsEarly(options);
    const { runOperator } = await import('../engine/run-operator.js');
    return await runOperator(options);
  } catch (error) {
    reportError(error, command, flags.debug);
    return process.exitCode as number;
  }
}

/** One step of a chain, as the CLI parsed it. */
export interface ChainStepInput {
  kind: 'map' | 'filter' | 'slice' | 'batch';
  handlerText: string | undefined;
  flags: HandlerCommandFlags;
  /** The step's command after `--`, run as a child process. */
  argv?: string[] | undefined;
}

/**
 * A `then` chain: the run's options from `runFlags`, each step's handler, retries,
 * timeout and config from its own flags. The chain keeps as many records in flight as the
 * largest --concurrency of its steps.
 */
export async function runChainCommand(command: string, steps: ChainStepInput[], runFlags: HandlerCommandFlags): Promise<number> {
  try {
    for (const [k, step] of steps.entries()) checkCommandFlags(step.flags, step.argv, `step ${k + 1}: `);
    const lines = steps.findIndex((step) => step.argv !== undefined && step.flags.protocol !== 'json');
    if (lines >= 0 && runFlags.side?.length) throw new UsageError(`--side reaches step ${lines + 1}, a command after --, through --protocol json (each value names its side version, a file in OP_SIDE_DIR)`);
    const stepSetups: StepSetup[] = steps.map((step) => ({
      kind: step.kind,
      maxRestarts: step.flags['max-restarts'] ?? DEFAULT_MAX_RESTARTS,
      stopTimeout: runFlags['stop-timeout'],
      handler: step.argv ? { type: 'command', argv: step.argv, protocol: step.flags.protocol ?? 'lines' } : step.handlerText === undefined ? { type: 'builtin', name: step.kind === 'batch' ? 'group' : 'flatten' } : classifyHandler(step.handlerText),
      retries: step.flags.retries,
      retryDelay: step.flags['retry-delay'],
      timeout: step.flags.timeout,
      config: loadConfig(step.flags.config),
    }));
    const concurrency = Math.max(...steps.map((step) => step.flags.concurrency));
    // With a batch step the reader cuts batches of input records by its --size, --bytes and --wait, as for op batch.
    const batch = steps.find((step) => step.kind === 'batch');
    const limits = { size: batch?.flags.size, bytes: batch?.flags.bytes, wait: batch?.flags.wait };
    return await runHandlerCommand(command, batch ? 'batch' : 'slice', undefined, { ...runFlags, ...limits, concurrency, retries: 0, timeout: undefined, config: undefined }, stepSetups);
  } catch (error) {
    reportError(error, command, runFlags.debug);
    return process.exitCode as number;
  }
}

/**
 * --protocol and --max-restarts belong to a command after `--`; what only a JS handler can
 * use (ctx.side, ctx.workdir(), async calls in flight) does not combine with one.
 */
function checkCommandFlags(flags: HandlerCommandFlags, argv: string[] | undefined, where = ''): void {
  if (argv === undefined) {
    const own = flags.protocol !== undefined ? '--protocol' : flags['max-restarts'] !== undefined ? '--max-restarts' : undefined;
    if (own) throw new UsageError(`${where}${own} applies to a command given after --`);
    return;
  }
  // In a chain, --side, --workdir, … are run flags that a JS step may use.
  if (where) return;
  // Side inputs reach a child through --protocol json: each record names its version, a file in OP_SIDE_DIR.
  if ((flags.side?.length || flags.every !== undefined) && flags.protocol !== 'json') throw new UsageError(`${flags.side?.length ? '--side' : '--every'} reaches a command after -- through --protocol json (each record names its side version, a file in OP_SIDE_DIR)`);
  const refused = flags.workdir !== undefined ? '--workdir' : flags.concurrency > 1 ? '--concurrency' : undefined;
  if (refused) throw new UsageError(`${refused} applies to a JS HANDLER, not to a command after -- (a command keeps its own state and concurrency)`);
}

/** `--side` and `--every`, checked before any input is read. */
function sideOptions(flags: HandlerCommandFlags): { side: SideSpec[]; sideEveryMs: number | undefined } {
  const sideEveryMs = flags.every === undefined ? undefined : parseDuration(flags.every);
  return { side: parseSideSpecs(flags.side ?? [], sideEveryMs), sideEveryMs };
}

/** --from URL: the queue the records come from, and how it is consumed. */
function queueOptions(flags: HandlerCommandFlags): QueueOptions | undefined {
  if (flags.from === undefined) return undefined;
  // The queue is itself the record of what was done: acked entries are not delivered again.
  if (flags.journal !== undefined) throw new UsageError('--journal does not combine with --from: the queue keeps its own record of what was done');
  // Named now, so a bad URL is a usage error before anything connects.
  const from = parseQueueUrl(flags.from);
  // The result and the ack are written by one script, so both streams live on one server.
  if (flags.to !== undefined && parseQueueUrl(flags.to).server !== from.server) throw new UsageError(`--to ${flags.to}: must be on the same Redis server and database as --from`);
  return {
    from: flags.from,
    to: flags.to,
    group: flags.group ?? DEFAULT_GROUP,
    visibilityMs: flags.visibility ?? DEFAULT_VISIBILITY_MS,
    maxDeliveries: flags['max-deliveries'] ?? DEFAULT_MAX_DELIVERIES,
    drain: flags.drain === true,
  };
}

/** op batch: at least one of --size, --bytes, --wait decides when a batch is full. */
function batchLimits(flags: HandlerCommandFlags): BatchLimits {
  if (flags.size === undefined && flags.bytes === undefined && flags.wait === undefined) {
    throw new UsageError('op batch needs --size N, --bytes B or --wait MS');
  }
  return { size: flags.size ?? Infinity, bytes: flags.bytes === undefined ? undefined : parseBytes(flags.bytes), wait: flags.wait };
}

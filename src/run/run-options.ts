import { availableParallelism } from 'node:os';
import { UsageError } from '../core/errors.js';
import { checkCommand } from './find-command.js';
import { parseRestart, parseRestartWindow, parseSeconds, type RestartWindow } from './parse-policy.js';
import { resolveNodes } from './resolve-nodes.js';

/** What a clean exit, or a failure that will not be restarted, does to the other workers. */
export type ExitPolicy = 'ignore' | 'shutdown';

/** Where workers' stdout goes: whole lines unprefixed, sdrun's prefixed form, or a file per worker. */
export type StdoutMode = { kind: 'lines' } | { kind: 'prefix' } | { kind: 'files'; template: string };

export interface RunOptions {
  command: string[];
  /** Workers on this host. */
  workers: number;
  nodes: number;
  nodeRank: number;
  /** Restarts allowed per worker after non-zero exits (Infinity: always). */
  restart: number;
  successExit: ExitPolicy;
  failureExit: ExitPolicy;
  staggerMs: number;
  restartWindow: RestartWindow;
  /** The first restart delay; it doubles per crash up to 30 s. */
  restartDelayMs: number;
  stopTimeoutMs: number;
  stdout: StdoutMode;
  events: string | undefined;
}

/** The flags commands/run.ts parses, by their flag names. */
export interface RunFlags {
  workers?: string | undefined;
  restart: string;
  'success-exit': ExitPolicy;
  'failure-exit': ExitPolicy;
  'startup-stagger': string;
  nodes?: number | undefined;
  'node-rank'?: number | undefined;
  'max-restarts-in': string;
  'restart-delay': string;
  'stop-timeout': string;
  stdout: string;
  events?: string | undefined;
}

/** Flags, COMMAND and the environment → one options object, or a usage error before anything starts. */
export function resolveRunOptions(command: string[] | undefined, flags: RunFlags, env: NodeJS.ProcessEnv): RunOptions {
  if (command === undefined || command.length === 0) throw new UsageError('missing COMMAND: op run -w N -- COMMAND ARGS…');
  if (flags.workers === undefined) throw new UsageError('missing -w N: how many workers to run');
  const workers = parseWorkers(flags.workers);
  const { nodes, nodeRank } = resolveNodes({ nodes: flags.nodes, nodeRank: flags['node-rank'] }, env);
  checkCommand(command[0] ?? '', env);
  return {
    command,
    workers,
    nodes,
    nodeRank,
    restart: parseRestart(flags.restart),
    successExit: flags['success-exit'],
    failureExit: flags['failure-exit'],
    staggerMs: parseSeconds(flags['startup-stagger'], '--startup-stagger'),
    restartWindow: parseRestartWindow(flags['max-restarts-in']),
    restartDelayMs: parseSeconds(flags['restart-delay'], '--restart-delay'),
    stopTimeoutMs: parseSeconds(flags['stop-timeout'], '--stop-timeout'),
    stdout: parseStdout(flags.stdout),
    events: flags.events,
  };
}

function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`-w ${JSON.stringify(text)}: expected a whole number of workers, at least 1, or auto`);
  return value;
}

function parseStdout(text: string): StdoutMode {
  if (text === 'lines') return { kind: 'lines' };
  if (text === 'prefix') return { kind: 'prefix' };
  // N workers appending to one file would each need the others' line boundaries.
  if (!text.includes('{rank}') && !text.includes('{local_rank}')) {
    throw new UsageError(`--stdout ${JSON.stringify(text)}: expected lines, prefix, or a file name holding {rank} or {local_rank}`);
  }
  return { kind: 'files', template: text };
}

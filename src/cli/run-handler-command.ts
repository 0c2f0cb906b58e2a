import { loadConfig } from '../handler/load-config.js';
import { classifyHandler } from '../handler/load-handler.js';
import { runOperator } from '../engine/run-operator.js';
import { resolveWorkers } from '../pool/resolve-workers.js';
import type { Kind } from '../engine/kinds.js';
import { resolveRank } from '../shard/resolve-rank.js';
import { reportError } from './report-error.js';

/** The flags every handler command parses (see commands/shared-flags.ts). */
export interface HandlerCommandFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  'input-format': 'ndjson' | 'json';
  concurrency: number;
  unordered: boolean;
  retries: number;
  'retry-delay': number;
  timeout?: number | undefined;
  errors?: string | undefined;
  'max-errors'?: number | undefined;
  id?: string | undefined;
  config?: string | undefined;
  workdir?: string | undefined;
  'keep-workdirs': boolean;
  stats: boolean;
  progress?: boolean | undefined;
  debug: boolean;
  workers?: string | undefined;
}

/** Flags → engine options → exit status. Every failure is reported here, once. */
export async function runHandlerCommand(command: string, kind: Kind, handlerText: string | undefined, flags: HandlerCommandFlags): Promise<number> {
  // Handler output must never reach stdout, which carries the records.
  console.log = console.info = console.debug = console.error;
  try {
    const { rank, world } = resolveRank({}, process.env, false);
    return await runOperator({
      command,
      kind,
      handler: handlerText === undefined ? { type: 'builtin', name: 'flatten' } : classifyHandler(handlerText),
      inputs: flags.in?.length ? flags.in : ['-'],
      output: flags.out,
      inputFormat: flags['input-format'],
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
      progress: flags.progress ?? process.stderr.isTTY === true,
      rank,
      world,
      workers: flags.workers === undefined ? 0 : resolveWorkers(flags.workers),
    });
  } catch (error) {
    reportError(error, command, flags.debug);
    return process.exitCode as number;
  }
}

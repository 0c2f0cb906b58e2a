import { EXIT, exitCodeForSignal } from '../core/exit-codes.js';
import { reportError } from '../io/report-error.js';
import { runOperator } from '../engine/run-operator.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { resolveRank } from '../core/resolve-rank.js';
import { EachHandler } from './each-handler.js';
import type { JobLauncher } from './spawn-job.js';
import { resolveEachSpec, type EachFlags } from './each-options.js';
import type { EachSpec } from './each-spec.js';
import { describeHalt, type HaltPolicy } from './halt-policy.js';

const COMMAND = 'op each';

/** What makes a job's output: a journal written with other values is not resumed from (journal-header.ts). */
function jobIdentity(spec: EachSpec): string {
  const { command, shell, stdin, capture, stdoutJson, maxOutput, okCodes } = spec;
  return JSON.stringify({ command, shell, stdin, capture, stdoutJson, maxOutput, okCodes: [...okCodes] });
}

/**
 * `op each [flags] -- CMD ARG…`: the record engine runs one job per record, --jobs at a
 * time, keeping order, retries, dead letters and stats; the handler owns the processes.
 * `runner` starts them where it could start (job-runner.ts); op itself does otherwise.
 * Resolves to the exit status; every failure is reported here, once.
 */
export async function runEach(command: string[] | undefined, flags: EachFlags, runner: Promise<JobLauncher | undefined>): Promise<number> {
  let handler: EachHandler | undefined;
  let halt: HaltPolicy | undefined;
  let status: number;
  try {
    const spec = resolveEachSpec(command, flags);
    halt = spec.halt;
    const inputs = flags.in?.length ? flags.in : ['-'];
    const { rank, world } = resolveRank({}, process.env, { required: false });
    handler = new EachHandler(spec, runner);
    const { counters } = handler;
    status = await runOperator({
      command: COMMAND,
      kind: 'map',
      stage: 'each',
      handler: { type: 'prebuilt', loaded: handler.loaded(), identity: jobIdentity(spec) },
      inputs,
      output: fillRankTemplate(flags.out, { rank, world }),
      inputFormat: flags['input-format'],
      concurrency: spec.jobs,
      unordered: flags.unordered,
      retries: flags.retries,
      retryDelay: flags['retry-delay'],
      // Timeouts are the job's own (TERM, then KILL), so the signal that ended it is recorded.
      timeout: undefined,
      errors: flags.errors,
      maxErrors: flags['max-errors'],
      idField: flags.id,
      journal: flags.journal === undefined ? undefined : { path: flags.journal, fsync: flags.fsync ?? 'batch', force: flags.force === true, resumeFailed: flags['resume-failed'] === true },
      config: undefined,
      workdir: flags.workdir,
      keepWorkdirs: flags['keep-workdirs'],
      stats: flags.stats,
      progress: flags.progress ?? process.stderr.isTTY === true,
      progressFields: () => [`${counters.done.toLocaleString('en-US')} done`, `${counters.failed.toLocaleString('en-US')} failed`, `${counters.running} running`],
      rank,
      world,
      workers: 0,
      halt: handler.halt.signal,
      quiet: false,
      // The jobs' own stop (TERM, then KILL after --stop-timeout) comes first; this is a backstop.
      stopTimeout: flags['stop-timeout'] + 5_000,
    });
  } catch (error) {
    reportError(error, COMMAND, flags.debug);
    status = process.exitCode as number;
  } finally {
    if (handler) await handler.shutdown();
    else await (await runner)?.close();
  }
  if (handler?.stopReason !== undefined) return exitCodeForSignal(handler.stopReason);
  if (handler?.halted && halt !== undefined) {
    process.stderr.write(`${COMMAND}: halted after ${handler.counters.failed} failed of ${handler.counters.done} jobs (--halt ${describeHalt(halt)})\n`);
    return status === EXIT.ok || status === EXIT.deadLettered ? EXIT.failed : status;
  }
  return status;
}

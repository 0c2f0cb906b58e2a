import type { Context } from '../core/types.js';
import type { LoadedHandler } from '../handler/load-handler.js';
import { buildExec, failureOf, type Exec } from './build-exec.js';
import { fillArgv, planArgv, type ArgvPlan } from './build-argv.js';
import type { EachSpec } from './each-spec.js';
import { ExecError } from './exec-error.js';
import { fieldText } from './fill-template.js';
import { describeHalt, shouldHalt } from './halt-policy.js';
import { type JobLauncher, NodeLauncher } from './spawn-job.js';

/** What the progress line and the end of the run read. */
export interface EachCounters {
  done: number;
  failed: number;
  running: number;
}

/**
 * The per-record work of `op each`, as a handler the record engine runs with concurrency =
 * --jobs: fill argv, start the job, wait for it, resolve to the record plus "exec", or
 * throw an ExecError the engine retries and dead-letters. It also owns what the engine
 * does not know about: job slots, process groups, --halt, and ending jobs on a signal.
 */
export class EachHandler {
  readonly counters: EachCounters = { done: 0, failed: 0, running: 0 };
  /** What starts the jobs: set up before the first record. */
  private launcher: JobLauncher | undefined;
  /** Aborted when --halt trips: the engine then starts no more records. */
  readonly halt = new AbortController();
  /** Set by the first SIGINT or SIGTERM. */
  stopReason: NodeJS.Signals | undefined;
  private readonly plan: ArgvPlan;
  private readonly freeSlots: number[];
  private readonly onSignal = (signal: NodeJS.Signals): void => this.stop(signal);

  constructor(
    private readonly spec: EachSpec,
    private readonly runner: Promise<JobLauncher | undefined>,
  ) {
    this.plan = planArgv(spec.command, spec.shell);
    // Popped from the end: slot 1 first.
    this.freeSlots = Array.from({ length: spec.jobs }, (_, k) => spec.jobs - k);
  }

  /** The engine's view: a handler that wants ctx, with setup and teardown around the run. */
  loaded(): LoadedHandler {
    return {
      fn: (record, ctx) => this.run(record, ctx),
      wantsContext: true,
      setup: () => this.setup(),
      teardown: () => this.teardown(),
    };
  }

  get halted(): boolean {
    return this.halt.signal.aborted;
  }

  private async setup(): Promise<void> {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    this.launcher = (await this.runner) ?? new NodeLauncher();
  }

  private async teardown(): Promise<void> {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    await this.launcher?.endLingering(this.spec.killAfter);
  }

  /** However the run ended: no job, and nothing that started jobs, outlives op each. */
  async shutdown(): Promise<void> {
    // A run refused before its first record never set up: the runner started all the same.
    const launcher = this.launcher ?? (await this.runner);
    launcher?.killAll();
    await launcher?.close();
  }

  /** SIGINT/SIGTERM: no more jobs start; running groups get TERM now and KILL after --stop-timeout. */
  stop(signal: NodeJS.Signals): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = signal;
    this.launcher?.terminateRunning(this.spec.stopTimeout);
  }

  async run(record: unknown, ctx: Context): Promise<unknown> {
    const spec = this.spec;
    if (this.stopReason !== undefined || (this.halted && spec.halt?.when === 'now')) return this.interrupted(ctx, [], null);
    const slot = this.freeSlots.pop() ?? this.counters.running + 1;
    try {
      const argv = fillArgv(this.plan, { record, number: ctx.index + 1, slot });
      const stdin = stdinText(spec, record);
      const cwd = spec.workdir ? await ctx.workdir() : undefined;
      if (this.stopReason !== undefined) return this.interrupted(ctx, argv, null);
      const job = this.launcher!.start({
        argv,
        cwd,
        stdin,
        captureStdout: spec.capture === 'both' || spec.capture === 'stdout',
        captureStderr: spec.capture === 'both' || spec.capture === 'stderr',
        maxOutput: spec.maxOutput,
        timeout: spec.timeout,
        killAfter: spec.killAfter,
      });
      // The output went away (`op each … | head -1`): nobody will read what jobs print.
      const onAbort = (): void => job.terminate(spec.killAfter);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.counters.running++;
      const outcome = await job.outcome;
      this.counters.running--;
      ctx.signal.removeEventListener('abort', onAbort);
      const exec = buildExec(argv, outcome, ctx.attempt, spec);
      const failure = failureOf(exec, outcome, spec);
      if (failure === undefined) {
        this.counters.done++;
        return withExec(record, exec.record);
      }
      if (this.stopReason !== undefined || (this.halted && spec.halt?.when === 'now')) return this.interrupted(ctx, argv, exec);
      this.countFailure(failure, ctx.attempt);
      throw failure;
    } catch (error) {
      if (!(error instanceof ExecError)) this.countFailure(error, ctx.attempt);
      throw error;
    } finally {
      this.freeSlots.push(slot);
    }
  }

  /**
   * A job ended (or never started) because op is stopping or halting. With --errors it is a
   * dead letter; without, it is reported on stderr and dropped, so that the records of jobs
   * that did finish are still written in order behind it.
   */
  private interrupted(ctx: Context, argv: string[], exec: Exec | undefined | null): undefined {
    const why = this.stopReason !== undefined ? `interrupted: op each stopped by ${this.stopReason}` : `killed: --halt ${describeHalt(this.spec.halt!)}`;
    const error = new ExecError(why, { argv, exit: exec?.record.exit ?? null, signal: exec?.record.signal ?? null, stderr: exec?.stderrTail ?? '' }, false);
    if (this.spec.deadLetters) throw error;
    process.stderr.write(`op each: ${ctx.source}:${ctx.line}: ${why}\n`);
    return undefined;
  }

  /** A failure that will not be retried is final: it counts towards --halt and the progress line. */
  private countFailure(error: unknown, attempt: number): void {
    const retryable = (error as { retryable?: unknown }).retryable !== false;
    if (retryable && attempt <= this.spec.retries) return;
    this.counters.failed++;
    this.counters.done++;
    const policy = this.spec.halt;
    if (policy === undefined || this.halted || !shouldHalt(policy, this.counters.failed, this.counters.done)) return;
    this.halt.abort();
    if (policy.when === 'now') this.launcher?.terminateRunning(this.spec.killAfter);
  }
}

/** The output record: the input plus "exec"; a record that is not an object is kept under "input". */
function withExec(record: unknown, exec: object): object {
  if (record !== null && typeof record === 'object' && !Array.isArray(record)) return { ...(record as object), exec };
  return { input: record, exec };
}

function stdinText(spec: EachSpec, record: unknown): string | undefined {
  switch (spec.stdin.type) {
    case 'null':
      return undefined;
    case 'record':
      return JSON.stringify(record) + '\n';
    case 'field':
      return fieldText(record, spec.stdin.path, spec.stdin.name);
  }
}

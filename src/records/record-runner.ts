import { waitBeforeRetry } from '../core/backoff.js';
import { OpError, OutputError, RecordError, causeParts, describeCause, type InputError, type Kind, type Stage } from '../core/errors.js';
import { isInstance } from '../core/is-instance.js';
import type { HandlerFn } from '../handler/load-handler.js';
import { RecordContext, type SharedContext } from '../handler/record-context.js';
import { removeWorkdir } from '../handler/workdir.js';
import { withoutCr } from '../io/line-end.js';
import { emitterFor, emitValues, serialise, type Emitter } from './emit-results.js';
import { ChainBatch, StepError, type MembersFn } from './run-steps.js';
import { callHandler, isThenable } from './call-handler.js';
import { newStats, type Stats } from './stats.js';

/** One line of the `--errors` file. */
export interface DeadLetter {
  source: string;
  line: number;
  id: unknown;
  input: unknown;
  error: { name: string; message: string };
  attempts: number;
  stage: Stage;
}

export interface RunnerOptions {
  kind: Kind;
  handler: HandlerFn;
  /** False: the handler cannot see `ctx`, so none is built unless a feature needs one. */
  wantsContext: boolean;
  shared: SharedContext;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  idField: string | undefined;
  /** Without it, the first failure is thrown and stops the run. */
  deadLetter: ((entry: DeadLetter) => void) | undefined;
  /** With --max-errors: the limit, and the failures counted before this runner started. */
  errorLimit: { max: number; before: number } | undefined;
  /** The dead letters' "stage" for a handler failure; the kind unless given (op each: "each"). */
  stage?: Stage | undefined;
  /** A chain with a batch step: called per batch with its members, whose places it needs. */
  handlerOfMembers?: MembersFn | undefined;
}

/** One record of a batch: parsed, and where it came from (a failed batch dead-letters each). */
export interface BatchMember {
  record: unknown;
  text: string;
  line: number;
  index: number;
  source: string;
}

/** A record (or a batch) and one attempt at it. */
interface Job {
  record: unknown;
  /** The line as read, without its line ending; undefined for a batch. */
  text: string | undefined;
  index: number;
  line: number;
  source: string;
  attempt: number;
  /** Set when the job is a batch: its failure is each member's. */
  members: BatchMember[] | undefined;
}

/** An async call in flight, and how to give up on it. */
interface PendingCall {
  job: Job;
  abandon(cause: OpError): void;
}

/** What `parse` returns for a line that failed (dead-lettered). */
const FAILED: unique symbol = Symbol('failed');

/**
 * Turns one input line into its output text. Returns a string when everything ran
 * synchronously, so a sync handler pays for no promise; a promise only when the handler
 * (or a retry, or a timeout) is asynchronous. Without `--errors` a failure is thrown (or
 * rejected) as a RecordError.
 */
export class RecordRunner {
  readonly stats: Stats = newStats();
  private readonly needsContext: boolean;
  private readonly emitter: Emitter;
  private readonly removesWorkdirs: boolean;
  /** Async calls in flight, so that calls that will never settle can be given up on. */
  private readonly pending = new Set<PendingCall>();
  /** Records whose asynchronous call has not settled. */
  private recordsInFlight = 0;

  constructor(private readonly options: RunnerOptions) {
    this.needsContext = options.wantsContext || options.timeout !== undefined || options.shared.workdir !== undefined;
    this.emitter = emitterFor(options.kind);
    this.removesWorkdirs = options.shared.workdir !== undefined && !options.shared.workdir.keep;
  }

  /** One line through the handler; `bad` when the reader already knows it is no record. */
  run(text: string, line: number, index: number, source: string, bad: InputError | undefined): string | Promise<string> {
    this.stats.in++;
    const clean = withoutCr(text);
    const record = this.parse(clean, line, index, source, bad);
    if (record === FAILED) return '';
    return this.track(this.call({ record, text: clean, index, line, source, attempt: 1, members: undefined }), clean, line, source, index);
  }

  /** Parses one line into a batch member; undefined when it was dead-lettered (thrown without --errors). */
  member(text: string, line: number, index: number, source: string, bad: InputError | undefined): BatchMember | undefined {
    this.stats.in++;
    const clean = withoutCr(text);
    const record = this.parse(clean, line, index, source, bad);
    return record === FAILED ? undefined : { record, text: clean, line, index, source };
  }

  /** The handler gets the batch's records; retries, timeout and failure cover the batch as a whole. */
  runBatch(members: BatchMember[]): string | Promise<string> {
    const first = members[0]!;
    const records = members.map((member) => member.record);
    const job: Job = { record: records, text: undefined, index: first.index, line: first.line, source: first.source, attempt: 1, members };
    const out = this.call(job);
    return typeof out === 'string' ? out : this.trackJob(out, job);
  }

  /** Records taken in whose call has finished (the progress line's count while a chunk still runs). */
  get done(): number {
    return this.stats.in - this.recordsInFlight;
  }

  /** Places of the calls still in flight. */
  get unfinished(): Array<{ source: string; line: number }> {
    return [...this.pending].map(({ job }) => ({ source: job.source, line: job.line }));
  }

  /**
   * Gives up on every call in flight: each fails with `cause` (dead-lettered with --errors),
   * as if its handler had thrown it. For calls that can never settle (the event loop has
   * nothing left that could settle them), and for a stop whose --stop-timeout ran out.
   */
  abandon(cause: OpError): number {
    const calls = [...this.pending];
    for (const call of calls) call.abandon(cause);
    return calls.length;
  }

  private track(out: string | Promise<string>, text: string, line: number, source: string, index: number): string | Promise<string> {
    if (typeof out === 'string') return out;
    return this.trackJob(out, { record: undefined, text, index, line, source, attempt: 1, members: undefined });
  }

  private trackJob(out: Promise<string>, job: Job): Promise<string> {
    const records = job.members?.length ?? 1;
    this.recordsInFlight += records;
    return new Promise((resolve, reject) => {
      const settled = (): boolean => {
        if (!this.pending.delete(call)) return false;
        this.recordsInFlight -= records;
        return true;
      };
      const call: PendingCall = {
        job,
        abandon: (cause) => {
          settled();
          try {
            resolve(this.fail(cause, this.options.kind, job));
          } catch (error) {
            reject(error);
          }
        },
      };
      this.pending.add(call);
      out.then(
        (value) => settled() && resolve(value),
        (error: unknown) => settled() && reject(error),
      );
    });
  }

  private parse(text: string, line: number, index: number, source: string, bad: InputError | undefined): unknown {
    if (bad !== undefined) return this.fail(bad, bad.stage ?? 'read', { record: text, text, index, line, source, attempt: 0, members: undefined }), FAILED;
    try {
      return JSON.parse(text);
    } catch (error) {
      this.fail(error, 'parse', { record: text, text, index, line, source, attempt: 0, members: undefined });
      return FAILED;
    }
  }

  private call(job: Job): string | Promise<string> {
    const ctx = this.needsContext ? new RecordContext(this.options.shared, job.index, job.line, job.source, job.attempt, this.idOf(job.record, job.line)) : undefined;
    let out: string | Promise<string>;
    try {
      const ofMembers = job.members && this.options.handlerOfMembers;
      const result = ofMembers ? ofMembers(job.members!, ctx as never) : ctx ? this.invoke(job.record, ctx) : this.options.handler(job.record, undefined as never);
      out = isThenable(result) ? Promise.resolve(result).then((value) => this.emit(value, job, ctx)) : this.emit(result, job, ctx);
    } catch (error) {
      return this.recover(error, job);
    }
    if (typeof out === 'string') return out;
    return out.then(undefined, (error: unknown) => this.recover(error, job));
  }

  private invoke(record: unknown, ctx: RecordContext): unknown {
    return callHandler(this.options.handler as (record: unknown, ctx: RecordContext) => unknown, record, ctx, this.options.timeout, this.options.shared.signal);
  }


  private emit(result: unknown, job: Job, ctx: RecordContext | undefined): string | Promise<string> {
    if (result instanceof ChainBatch) return this.emitChainBatch(result, job);
    const out = this.emitter(result, job.record, job.text, this.stats);
    const dir = this.removesWorkdirs ? ctx?.madeWorkdir : undefined;
    if (dir === undefined) return out;
    return Promise.resolve(out).then(async (text) => (await removeWorkdir(dir), text));
  }

  /** A record that failed before the batch step is dead-lettered alone; a later failure, the rest of the batch. */
  private emitChainBatch(result: ChainBatch, job: Job): string | Promise<string> {
    const members = job.members!;
    const placed = (some: BatchMember[], attempt: number): Job => ({ ...job, line: some[0]!.line, source: some[0]!.source, index: some[0]!.index, members: some, attempt });
    for (const { member, error } of result.failures) this.fail(error.stepCause, error.stage!, placed([members[member]!], error.attempts));
    const failed = new Set(result.failures.map(({ member }) => member));
    const rest = members.filter((_, k) => !failed.has(k));
    const error = result.batchError;
    if (error) return rest.length === 0 ? '' : this.fail(error.stepCause, error.stage!, placed(rest, error.attempts));
    return emitValues(result.values, this.stats, rest.length);
  }

  private recover(error: unknown, job: Job): string | Promise<string> {
    if (isInstance(error, OutputError)) return this.fail(error, 'serialize', job);
    // A step of a chain failed after its own retries: dead-lettered under the step's name.
    if (isInstance(error, StepError)) return this.fail(error.stepCause, error.stage!, { ...job, attempt: error.attempts });
    // A failure that already stops the run (a record's without --errors, or --max-errors reached) passes through.
    if (isInstance(error, RecordError) || isInstance(error, ErrorLimitReached)) throw error;
    if (job.attempt > this.options.retries || this.options.shared.signal.aborted || isFinal(error)) return this.fail(error, this.options.stage ?? this.options.kind, job);
    return this.retry(job);
  }

  private async retry(job: Job): Promise<string> {
    await waitBeforeRetry(this.options.retryDelay, job.attempt, this.options.shared.signal);
    this.stats.retries++;
    // Each attempt gets the record as read, never one a failed attempt mutated.
    const members = job.members?.map((member) => ({ ...member, record: JSON.parse(member.text) as unknown }));
    const record = members ? members.map((member) => member.record) : JSON.parse(job.text!);
    return this.call({ ...job, record, members, attempt: job.attempt + 1 });
  }

  private fail(cause: unknown, stage: Stage, job: Job): string {
    const place = { source: job.source, line: job.line };
    const deadLetter = this.options.deadLetter;
    // Counted either way, so the stats of a run stopped by this record still balance.
    this.stats.errors += job.members?.length ?? 1;
    if (!deadLetter) {
      const batch = job.members && job.members.length > 1 ? `batch of ${job.members.length} records: ` : '';
      const excerpt = job.members?.[0]?.text ?? job.text ?? safeJson(job.record);
      throw new RecordError(batch ? new Error(batch + describeCause(cause)) : cause, { place, stage, attempts: job.attempt, excerpt });
    }
    const error = { ...causeParts(cause), ...detailsOf(cause) };
    const parsed = stage !== 'read' && stage !== 'decode' && stage !== 'parse';
    for (const member of job.members ?? [{ text: job.text, line: job.line, source: job.source }]) {
      // The record as it was read, whatever the handler did to it (a cycle, a BigInt).
      const input = parsed && member.text !== undefined ? (JSON.parse(member.text) as unknown) : member.text;
      const id = parsed ? this.idOf(input, member.line) : member.line;
      deadLetter({ source: member.source, line: member.line, id, input, error, attempts: job.attempt, stage });
    }
    const limit = this.options.errorLimit;
    if (limit !== undefined && limit.before + this.stats.errors >= limit.max) throw maxErrorsReached(limit.before + this.stats.errors, limit.max, place);
    return '';
  }

  /** `--id FIELD` of the record when it has one, else its line number. */
  private idOf(record: unknown, line: number): unknown {
    const field = this.options.idField;
    if (field === undefined || record === null || typeof record !== 'object') return line;
    return (record as Record<string, unknown>)[field] ?? line;
  }
}

/** The failure that stops a run after `--max-errors N` failed records: never a record's own failure. */
class ErrorLimitReached extends OpError {}

export function maxErrorsReached(errors: number, max: number, place?: { source: string; line: number }): OpError {
  return new ErrorLimitReached(`stopped after ${errors} failed records (--max-errors ${max})`, { place });
}

/** A failure that says no retry can help (`retryable: false`) goes straight to the dead letters. */
function isFinal(error: unknown): boolean {
  try {
    return error !== null && typeof error === 'object' && (error as { retryable?: unknown }).retryable === false;
  } catch {
    return false;
  }
}

/** Extra fields a failure carries for its dead letter (op each: exit, signal, stderr tail). */
function detailsOf(cause: unknown): object | undefined {
  try {
    const details = cause !== null && typeof cause === 'object' ? (cause as { details?: unknown }).details : undefined;
    return details !== null && typeof details === 'object' ? { ...details } : undefined;
  } catch {
    return undefined;
  }
}

function safeJson(value: unknown): string | undefined {
  try {
    return serialise(value);
  } catch {
    return undefined;
  }
}

import { InputError, OpError, RecordError, TimeoutError, causeParts, describeCause } from '../core/errors.js';
import type { HandlerFn } from '../handler/load-handler.js';
import { RecordContext, type SharedContext } from '../handler/record-context.js';
import { removeWorkdir } from '../handler/workdir.js';
import { waitBeforeRetry } from './backoff.js';
import { OutputError, emitterFor, type Emitter, type Kind } from './kinds.js';
import { newStats, type Stats } from './stats.js';

/** One line of the `--errors` file. */
export interface DeadLetter {
  source: string;
  line: number;
  id: unknown;
  input: unknown;
  error: { name: string; message: string };
  attempts: number;
  stage: string;
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
  maxErrors: number | undefined;
  /** The dead letters' "stage" for a handler failure; the kind unless given (op each: "each"). */
  stage?: string | undefined;
}

/** One record of a batch: parsed, and where it came from (a failed batch dead-letters each). */
export interface BatchMember {
  record: unknown;
  text: string;
  line: number;
  index: number;
  source: string;
}

/** Failures before the handler ran are not retried: the same bytes fail the same way. */
type Stage = 'read' | 'decode' | 'parse' | 'serialize' | Kind;

/** A record between attempts: built only on the slow paths (async, failure, retry). */
interface Job {
  record: unknown;
  text: string | undefined;
  index: number;
  line: number;
  source: string;
  attempt: number;
  /** Set when the job is a batch: its failure is each member's. */
  members?: BatchMember[] | undefined;
}

/**
 * Turns one input line into its output text. Returns a string when everything ran
 * synchronously, so a sync handler pays for no promise and no allocation of ours; a
 * promise only when the handler (or a retry, or a timeout) is asynchronous. Without
 * `--errors` a failure is thrown (or rejected) as a RecordError.
 */
export class RecordRunner {
  readonly stats: Stats = newStats();
  private readonly needsContext: boolean;
  private readonly emitter: Emitter;
  private readonly removesWorkdirs: boolean;

  constructor(private readonly options: RunnerOptions) {
    this.needsContext = options.wantsContext || options.timeout !== undefined || options.shared.workdir !== undefined;
    this.emitter = emitterFor(options.kind);
    this.removesWorkdirs = options.shared.workdir !== undefined && !options.shared.workdir.keep;
  }

  run(text: string, line: number, index: number, source: string, bad: string | undefined): string | Promise<string> {
    this.stats.in++;
    if (bad !== undefined) return this.fail(new InputError(bad), bad.startsWith('invalid') ? 'decode' : 'read', { record: text, text, index, line, source, attempt: 0 });
    // CRLF input: the \r is the line ending's, not the record's.
    const clean = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    let record: unknown;
    try {
      record = JSON.parse(clean);
    } catch (error) {
      return this.fail(error, 'parse', { record: clean, text: clean, index, line, source, attempt: 0 });
    }
    return this.call(record, clean, index, line, source, 1);
  }

  /** A record that arrived already parsed (`--input-format json`). */
  runValue(record: unknown, line: number, index: number, source: string): string | Promise<string> {
    this.stats.in++;
    return this.call(record, undefined, index, line, source, 1);
  }

  /** Parses one line into a batch member; undefined when it was dead-lettered (thrown without --errors). */
  parseMember(text: string, line: number, index: number, source: string, bad: string | undefined): BatchMember | undefined {
    this.stats.in++;
    if (bad !== undefined) {
      this.fail(new InputError(bad), bad.startsWith('invalid') ? 'decode' : 'read', { record: text, text, index, line, source, attempt: 0 });
      return undefined;
    }
    const clean = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    try {
      return { record: JSON.parse(clean), text: clean, line, index, source };
    } catch (error) {
      this.fail(error, 'parse', { record: clean, text: clean, index, line, source, attempt: 0 });
      return undefined;
    }
  }

  /** The handler gets the batch's records; retries, timeout and failure cover the batch as a whole. */
  runBatch(members: BatchMember[]): string | Promise<string> {
    const first = members[0]!;
    return this.call(
      members.map((member) => member.record),
      undefined,
      first.index,
      first.line,
      first.source,
      1,
      members,
    );
  }

  private call(
    record: unknown,
    text: string | undefined,
    index: number,
    line: number,
    source: string,
    attempt: number,
    members?: BatchMember[],
  ): string | Promise<string> {
    const ctx = this.needsContext ? new RecordContext(this.options.shared, index, line, source, attempt, this.idOf(record, line)) : undefined;
    let out: string | Promise<string>;
    try {
      const result = ctx ? this.invoke(record, ctx) : this.options.handler(record, undefined as never);
      out = isThenable(result) ? Promise.resolve(result).then((value) => this.emit(value, record, text, ctx)) : this.emit(result, record, text, ctx);
    } catch (error) {
      return this.recover(error, { record, text, index, line, source, attempt, members });
    }
    if (typeof out === 'string') return out;
    return out.then(undefined, (error: unknown) => this.recover(error, { record, text, index, line, source, attempt, members }));
  }

  private invoke(record: unknown, ctx: RecordContext): unknown {
    const ms = this.options.timeout;
    if (ms === undefined) return this.options.handler(record, ctx);
    const controller = new AbortController();
    ctx.signal = AbortSignal.any([controller.signal, this.options.shared.signal]);
    const result = this.options.handler(record, ctx);
    if (!isThenable(result)) return result;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new TimeoutError(ms);
        controller.abort(error);
        reject(error);
      }, ms);
      result.then(
        (value) => (clearTimeout(timer), resolve(value)),
        (error: unknown) => (clearTimeout(timer), reject(error)),
      );
    });
  }

  private emit(result: unknown, record: unknown, text: string | undefined, ctx: RecordContext | undefined): string | Promise<string> {
    const out = this.emitter(result, record, text, this.stats);
    const dir = this.removesWorkdirs ? ctx?.madeWorkdir : undefined;
    if (dir === undefined) return out;
    return Promise.resolve(out).then(async (text) => (await removeWorkdir(dir), text));
  }

  private recover(error: unknown, job: Job): string | Promise<string> {
    if (error instanceof OutputError) return this.fail(error, 'serialize', job);
    if (error instanceof OpError) throw error;
    if (job.attempt > this.options.retries || this.options.shared.signal.aborted || isFinal(error)) return this.fail(error, this.options.stage ?? this.options.kind, job);
    return this.retry(job);
  }

  private async retry(job: Job): Promise<string> {
    await waitBeforeRetry(this.options.retryDelay, job.attempt, this.options.shared.signal);
    this.stats.retries++;
    return this.call(job.record, job.text, job.index, job.line, job.source, job.attempt + 1, job.members);
  }

  private fail(cause: unknown, stage: Stage | string, job: Job): string {
    const place = { source: job.source, line: job.line };
    const deadLetter = this.options.deadLetter;
    if (!deadLetter) {
      const batch = job.members && job.members.length > 1 ? `batch of ${job.members.length} records: ` : '';
      const excerpt = job.members?.[0]?.text ?? job.text ?? safeJson(job.record);
      throw new RecordError(batch ? new Error(batch + describeCause(cause)) : cause, { place, stage, attempts: job.attempt, excerpt });
    }
    const error = { ...causeParts(cause), ...detailsOf(cause) };
    const parsed = stage !== 'read' && stage !== 'decode' && stage !== 'parse';
    for (const member of job.members ?? [{ record: job.record, line: job.line, source: job.source }]) {
      this.stats.errors++;
      const id = parsed ? this.idOf(member.record, member.line) : member.line;
      deadLetter({ source: member.source, line: member.line, id, input: member.record, error, attempts: job.attempt, stage });
    }
    const max = this.options.maxErrors;
    if (max !== undefined && this.stats.errors >= max) {
      throw new OpError(`stopped after ${this.stats.errors} failed records (--max-errors ${max})`, { place });
    }
    return '';
  }

  /** `--id FIELD` of the record when it has one, else its line number. */
  private idOf(record: unknown, line: number): unknown {
    const field = this.options.idField;
    if (field === undefined || record === null || typeof record !== 'object') return line;
    return (record as Record<string, unknown>)[field] ?? line;
  }
}

/** A failure that says no retry can help (`retryable: false`) goes straight to the dead letters. */
function isFinal(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { retryable?: unknown }).retryable === false;
}

/** Extra fields a failure carries for its dead letter (op each: exit, signal, stderr tail). */
function detailsOf(cause: unknown): object | undefined {
  const details = cause !== null && typeof cause === 'object' ? (cause as { details?: unknown }).details : undefined;
  return details !== null && typeof details === 'object' ? details : undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

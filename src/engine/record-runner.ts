import { OpError, RecordError, TimeoutError, causeParts, type Place } from '../core/errors.js';
import type { HandlerFn } from '../handler/load-handler.js';
import { RecordContext, type SharedContext } from '../handler/record-context.js';
import { removeWorkdir } from '../handler/workdir.js';
import { waitBeforeRetry } from './backoff.js';
import { OutputError, emitResult, type Kind } from './kinds.js';
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
  shared: SharedContext;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  idField: string | undefined;
  /** Without it, the first failure is thrown and stops the run. */
  deadLetter: ((entry: DeadLetter) => void) | undefined;
  maxErrors: number | undefined;
}

/** Failures before the handler ran are not retried: the same bytes fail the same way. */
type Stage = 'read' | 'decode' | 'parse' | 'serialize' | Kind;

/**
 * Turns one input line into its output text. Returns a string when everything ran
 * synchronously, so a sync handler pays for no promise; a promise only when the handler
 * (or a retry, or a timeout) is asynchronous. Without `--errors` a failure is thrown.
 */
export class RecordRunner {
  readonly stats: Stats = newStats();

  constructor(private readonly options: RunnerOptions) {}

  run(text: string, line: number, index: number, source: string, bad: string | undefined): string | Promise<string> {
    this.stats.in++;
    if (bad !== undefined) return this.fail(new Error(bad), bad.startsWith('invalid') ? 'decode' : 'read', { source, line }, 0, text, text);
    // CRLF input: the \r is the line ending's, not the record's.
    const clean = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    let record: unknown;
    try {
      record = JSON.parse(clean);
    } catch (error) {
      return this.fail(error, 'parse', { source, line }, 0, clean, clean);
    }
    return this.call(record, clean, this.context(record, index, line, source, 1));
  }

  /** A record that arrived already parsed (`--input-format json`). */
  runValue(record: unknown, line: number, index: number, source: string): string | Promise<string> {
    this.stats.in++;
    return this.call(record, undefined, this.context(record, index, line, source, 1));
  }

  private context(record: unknown, index: number, line: number, source: string, attempt: number): RecordContext {
    const field = this.options.idField;
    const id = field !== undefined && record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[field] : undefined;
    return new RecordContext(this.options.shared, index, line, source, attempt, id ?? line);
  }

  private call(record: unknown, text: string | undefined, ctx: RecordContext): string | Promise<string> {
    let out: string | Promise<string>;
    try {
      const result = this.invoke(record, ctx);
      out = isThenable(result) ? Promise.resolve(result).then((value) => this.emit(value, record, text, ctx)) : this.emit(result, record, text, ctx);
    } catch (error) {
      return this.recover(error, record, text, ctx);
    }
    return typeof out === 'string' ? out : out.then(undefined, (error: unknown) => this.recover(error, record, text, ctx));
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

  private emit(result: unknown, record: unknown, text: string | undefined, ctx: RecordContext): string | Promise<string> {
    const out = emitResult(this.options.kind, result, record, text, this.stats);
    const dir = this.options.shared.workdir?.keep ? undefined : ctx.madeWorkdir;
    if (dir === undefined) return out;
    return Promise.resolve(out).then(async (text) => (await removeWorkdir(dir), text));
  }

  private recover(error: unknown, record: unknown, text: string | undefined, ctx: RecordContext): string | Promise<string> {
    const place = { source: ctx.source, line: ctx.line };
    if (error instanceof OutputError) return this.fail(error, 'serialize', place, ctx.attempt, record, text);
    if (error instanceof OpError) throw error;
    if (ctx.attempt > this.options.retries || this.options.shared.signal.aborted) {
      return this.fail(error, this.options.kind, place, ctx.attempt, record, text);
    }
    return this.retry(record, text, ctx);
  }

  private async retry(record: unknown, text: string | undefined, ctx: RecordContext): Promise<string> {
    await waitBeforeRetry(this.options.retryDelay, ctx.attempt, this.options.shared.signal);
    this.stats.retries++;
    return this.call(record, text, this.context(record, ctx.index, ctx.line, ctx.source, ctx.attempt + 1));
  }

  private fail(cause: unknown, stage: Stage, place: Place, attempts: number, input: unknown, text: string | undefined): string {
    const excerpt = text ?? safeJson(input);
    const deadLetter = this.options.deadLetter;
    if (!deadLetter) throw new RecordError(cause, { place, stage, attempts, excerpt });
    this.stats.errors++;
    const field = this.options.idField;
    const id = field !== undefined && input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[field] : undefined;
    deadLetter({ source: place.source, line: place.line, id: id ?? place.line, input, error: causeParts(cause), attempts, stage });
    const max = this.options.maxErrors;
    if (max !== undefined && this.stats.errors >= max) {
      throw new OpError(`stopped after ${max} failed record${max === 1 ? '' : 's'} (--max-errors ${max})`, { place });
    }
    return '';
  }
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

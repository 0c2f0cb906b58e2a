/** What every handler receives besides the record. */
export interface Context<Config = unknown> {
  /** 0-based index of the record among all input records. */
  readonly index: number;
  /** 1-based line number of the record in its source. */
  readonly line: number;
  /** Name of the source: `stdin` or a file path. */
  readonly source: string;
  /** 1-based attempt number; above 1 when `--retries` reruns the record. */
  readonly attempt: number;
  readonly rank: number;
  readonly world: number;
  /** 0 on the main thread; 1..N inside worker threads. */
  readonly workerId: number;
  /** The operator's options, from `--config FILE|JSON`. */
  readonly config: Config;
  /** Aborted on `--timeout` or shutdown. */
  readonly signal: AbortSignal;
  /** With `--side NAME=FILE`: each side input's parsed value, by NAME; `{}` without. */
  readonly side: Readonly<Record<string, unknown>>;
  /** Which version of the side inputs this record sees: 1 at start, +1 per reload; 0 without --side. */
  readonly sideVersion: number;
  /** Writes one line to stderr, prefixed with the command and the record's place. */
  log(...args: unknown[]): void;
  /** With `--workdir DIR`: creates and returns `DIR/<record id>` for this record. */
  workdir(): Promise<string>;
}

/*
 * Each handler type takes the type of `--config` as its last parameter, so that
 * `ctx.config` is typed and `(r: In, ctx: Context<Cfg>) => Out` is a Mapper<In, Out, Cfg>
 * as written, with no cast.
 */

/** `op map`: the output record, or `undefined` to drop the input. */
export type Mapper<I = unknown, O = unknown, Config = unknown> = (record: I, ctx: Context<Config>) => O | undefined | Promise<O | undefined>;
/** `op filter`: keep the record when the result is truthy. */
export type Predicate<I = unknown, Config = unknown> = (record: I, ctx: Context<Config>) => unknown;
/** `op slice`: zero or more output records per input. */
export type Slicer<I = unknown, O = unknown, Config = unknown> = (
  record: I,
  ctx: Context<Config>,
) => Iterable<O> | AsyncIterable<O> | Promise<Iterable<O> | AsyncIterable<O>>;
/** `op batch`: an array of records in, output records out. */
export type BatchMapper<I = unknown, O = unknown, Config = unknown> = (
  records: I[],
  ctx: Context<Config>,
) => Iterable<O> | AsyncIterable<O> | Promise<Iterable<O> | AsyncIterable<O>>;

/** The optional named exports of a handler module. */
export type Setup<Config = unknown> = (ctx: Context<Config>) => unknown;
export type Teardown<Config = unknown> = (ctx: Context<Config>) => unknown;

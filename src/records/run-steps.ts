import { waitBeforeRetry } from '../core/backoff.js';
import { OpError, type Kind, type Stage } from '../core/errors.js';
import type { Context } from '../core/types.js';
import { loadHandler, type HandlerSpec, type LoadedHandler } from '../handler/load-handler.js';
import { RecordContext, type SharedContext } from '../handler/record-context.js';
import { loadChildStep } from './child-step.js';
import { newStats, type Stats } from './stats.js';
import { callHandler, isThenable } from './call-handler.js';
import { notIterable } from './emit-results.js';

/** One step of a `then` chain, as plain data so a worker thread can rebuild it. */
export interface StepSetup {
  kind: Kind;
  handler: HandlerSpec;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  config: unknown;
  /** A step served by a child process (`-- CMD`): its --max-restarts, and the run's --stop-timeout. */
  maxRestarts?: number | undefined;
  stopTimeout?: number | undefined;
}

/** A record of a batch, as the chain's batch function gets it: its value and its place. */
export interface MemberPlace {
  record: unknown;
  line: number;
  index: number;
  source: string;
}

/**
 * What a chain with a batch step returns for one batch of input records: the values out of
 * its last step; the records that failed in a step before the batch step (dead-lettered
 * alone, by their place in the batch); and the failure of the batch step or of a step
 * after it, which fails the batch's other records as one.
 */
export class ChainBatch {
  constructor(
    readonly values: unknown[],
    readonly failures: Array<{ member: number; error: StepError }>,
    readonly batchError: StepError | undefined,
  ) {}
}

/** A step's counters, named `2:filter`: in = out + dropped + errors, per step. */
export interface StepStats extends Stats {
  step: string;
}

/** A record failed inside step `stage`: the runner dead-letters it under that name. */
export class StepError extends OpError {
  constructor(
    readonly stepCause: unknown,
    stage: Stage,
    readonly attempts: number,
  ) {
    super('step failed', { stage, cause: stepCause });
  }
}

interface Step {
  setup: StepSetup;
  label: Stage;
  loaded: LoadedHandler;
  shared: SharedContext;
  needsContext: boolean;
  stats: Stats;
}

/**
 * A chain as one handler of kind slice: the parsed record goes through each step as a
 * value (map: 1 → 0/1, filter: keep or drop, slice: 1 → N), and the values that come out
 * of the last step are serialised once, by the runner. So a chain of three steps parses
 * and serialises each record once, where a pipe of three processes does it three times.
 * Each step keeps its own retries, timeout and config; a failure is thrown as a StepError
 * naming the step.
 */
export async function loadChain(setups: StepSetup[], shared: SharedContext, sideDir?: string): Promise<LoadedHandler & { stepStats(): StepStats[]; fnOfMembers?: MembersFn | undefined }> {
  const steps: Step[] = [];
  for (const [k, setup] of setups.entries()) {
    const label: Stage = `${k + 1}:${setup.kind}`;
    const loaded = setup.handler.type === 'command' ? loadChildStep({ ...setup.handler, maxRestarts: setup.maxRestarts ?? 10, stopTimeout: setup.stopTimeout ?? 10_000, sideDir }, setup.kind, label, { ...shared, config: setup.config }) : await loadHandler(setup.handler);
    steps.push({
      setup,
      label,
      loaded,
      shared: { ...shared, config: setup.config },
      needsContext: loaded.wantsContext || setup.timeout !== undefined,
      stats: newStats(),
    });
  }
  const fn = (record: unknown, ctx: Context): unknown => {
    const out: unknown[] = [];
    const pending = runValue(steps, 0, record, ctx as RecordContext | undefined, out);
    return pending ? pending.then(() => out) : out;
  };
  const at = setups.findIndex((setup) => setup.kind === 'batch');
  const fnOfMembers: MembersFn | undefined = at < 0 ? undefined : (members, ctx) => runBatchChain(steps, at, members, ctx as RecordContext | undefined, shared);
  const lifecycle = (which: 'setup' | 'teardown') => async (ctx: Context) => {
    for (const step of steps) await step.loaded[which]?.(new RecordContext(step.shared, ctx.index, ctx.line, ctx.source, ctx.attempt, undefined));
  };
  return {
    fn,
    // The record's place and index reach every step's ctx through the chain's own.
    wantsContext: steps.some((step) => step.needsContext),
    setup: steps.some((step) => step.loaded.setup) ? lifecycle('setup') : undefined,
    teardown: steps.some((step) => step.loaded.teardown) ? lifecycle('teardown') : undefined,
    fnOfMembers,
    stepStats: () => steps.map((step) => ({ step: step.label, ...takeStats(step) })),
  };
}

/** A chain with a batch step is called once per batch, with the batch's records and their places. */
export type MembersFn = (members: readonly MemberPlace[], ctx: Context) => Promise<ChainBatch>;

/**
 * One batch through a chain whose step `at` is batch: each record through the steps before
 * it, as a unit of its own; what they yield, in input order, is the batch step's array;
 * the batch step's values through the steps after it, as one unit (as a record's values
 * after a slice step are).
 */
async function runBatchChain(steps: Step[], at: number, members: readonly MemberPlace[], ctx: RecordContext | undefined, shared: SharedContext): Promise<ChainBatch> {
  const front = steps.slice(0, at);
  const grouped: unknown[] = [];
  const failures: Array<{ member: number; error: StepError }> = [];
  for (const [k, member] of members.entries()) {
    const place = ctx && new RecordContext(shared, member.index, member.line, member.source, 1, ctx.id);
    const into: unknown[] = [];
    try {
      await runValue(front, 0, member.record, place, into);
    } catch (error) {
      if (!(error instanceof StepError)) throw error;
      failures.push({ member: k, error });
      continue;
    }
    for (const value of into) grouped.push(value);
  }
  const out: unknown[] = [];
  if (grouped.length === 0) return new ChainBatch(out, failures, undefined);
  try {
    await runYield(steps.slice(at + 1), 0, await callStep(steps[at]!, grouped, ctx), ctx, out);
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    return new ChainBatch([], failures, error);
  }
  return new ChainBatch(out, failures, undefined);
}

function takeStats(step: Step): Stats {
  const stats = step.stats;
  step.stats = newStats();
  return stats;
}

/** A step's result that drops the value. */
const SKIP: unique symbol = Symbol('skip');
/** A slice step's values (a map's result may itself be an array, so they are marked). */
class Many {
  constructor(readonly values: unknown[]) {}
}
type Yield = unknown;

/**
 * Runs one value through steps[from…] into `out`; synchronous (no promise, no array per
 * step) as long as every handler returns plain values.
 */
function runValue(steps: Step[], from: number, value: unknown, ctx: RecordContext | undefined, out: unknown[]): Promise<void> | undefined {
  let current = value;
  for (let k = from; k < steps.length; k++) {
    const result = callStep(steps[k]!, current, ctx);
    if (result === SKIP) return undefined;
    if (result instanceof Promise) return result.then((resolved: Yield) => runYield(steps, k + 1, resolved, ctx, out));
    if (result instanceof Many) return runMany(steps, k + 1, result.values, ctx, out);
    current = result;
  }
  out.push(current);
  return undefined;
}

function runYield(steps: Step[], next: number, result: Yield, ctx: RecordContext | undefined, out: unknown[]): Promise<void> | undefined {
  if (result === SKIP) return undefined;
  if (result instanceof Many) return runMany(steps, next, result.values, ctx, out);
  return runValue(steps, next, result, ctx, out);
}

/** Each of a slice's values through the rest, in order; asynchronous from the first that is. */
function runMany(steps: Step[], from: number, values: unknown[], ctx: RecordContext | undefined, out: unknown[]): Promise<void> | undefined {
  for (let v = 0; v < values.length; v++) {
    const pending = runValue(steps, from, values[v], ctx, out);
    if (pending) {
      return pending.then(async () => {
        for (const value of values.slice(v + 1)) await runValue(steps, from, value, ctx, out);
      });
    }
  }
  return undefined;
}

/** One value through one step: SKIP, a value, Many values, or a promise of one of those. */
function callStep(step: Step, value: unknown, ctx: RecordContext | undefined, attempt = 1): Yield {
  if (attempt === 1) step.stats.in += weightOf(step, value);
  const input = step.setup.retries > 0 ? structuredClone(value) : value;
  let result: unknown;
  try {
    result = invoke(step, value, ctx, attempt);
  } catch (error) {
    return retryOrFail(step, input, ctx, attempt, error);
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (resolved) => yieldOf(step, value, resolved),
      (error: unknown) => retryOrFail(step, input, ctx, attempt, error),
    );
  }
  try {
    return yieldOf(step, value, result);
  } catch (error) {
    return retryOrFail(step, input, ctx, attempt, error);
  }
}

function invoke(step: Step, value: unknown, outer: RecordContext | undefined, attempt: number): unknown {
  if (!step.needsContext || outer === undefined) return step.loaded.fn(value, undefined as never);
  const ctx = new RecordContext(step.shared, outer.index, outer.line, outer.source, attempt, outer.id);
  return callHandler(step.loaded.fn as (record: unknown, ctx: RecordContext) => unknown, value, ctx, step.setup.timeout, step.shared.signal);
}

function retryOrFail(step: Step, input: unknown, ctx: RecordContext | undefined, attempt: number, error: unknown): Promise<Yield> {
  if (error instanceof StepError) throw error;
  if (attempt > step.setup.retries || step.shared.signal.aborted) {
    step.stats.errors += weightOf(step, input);
    throw new StepError(error, step.label, attempt);
  }
  return waitBeforeRetry(step.setup.retryDelay, attempt, step.shared.signal).then(() => {
    step.stats.retries++;
    return callStep(step, structuredClone(input), ctx, attempt + 1);
  });
}

/** What a step's result means for the stream, by the step's kind. */
function yieldOf(step: Step, value: unknown, result: unknown): Yield {
  const stats = step.stats;
  switch (step.setup.kind) {
    case 'map':
      if (result === undefined) return stats.dropped++, SKIP;
      return stats.out++, result;
    case 'filter':
      if (!result) return stats.dropped++, SKIP;
      return stats.out++, value;
    case 'batch':
      // Without a handler the batch goes on as one value, an array; as op batch counts it.
      if (step.setup.handler.type === 'builtin') return stats.out++, value;
      return countBatch(stats, sliceValues(result), (value as unknown[]).length);
    case 'slice': {
      const values = sliceValues(result);
      return Array.isArray(values) ? countMany(stats, values) : values.then((all) => countMany(stats, all));
    }
  }
}

function sliceValues(result: unknown): unknown[] | Promise<unknown[]> {
  if (result === undefined || result === null) return [];
  if (Array.isArray(result)) return result.filter((value) => value !== undefined);
  if (typeof result === 'object' && Symbol.iterator in result) return [...(result as Iterable<unknown>)].filter((value) => value !== undefined);
  if (typeof result === 'object' && Symbol.asyncIterator in result) return collect(result as AsyncIterable<unknown>);
  throw new TypeError(notIterable(result));
}

async function collect(values: AsyncIterable<unknown>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const value of values) if (value !== undefined) all.push(value);
  return all;
}

function countBatch(stats: Stats, values: unknown[] | Promise<unknown[]>, weight: number): Yield {
  const count = (all: unknown[]): Yield => {
    if (all.length === 0) {
      stats.dropped += weight;
      return SKIP;
    }
    stats.out += all.length;
    return new Many(all);
  };
  return Array.isArray(values) ? count(values) : values.then(count);
}

/** A batch step counts the values of its batch; the others, one. */
function weightOf(step: Step, value: unknown): number {
  return step.setup.kind === 'batch' ? (value as unknown[]).length : 1;
}

function countMany(stats: Stats, values: unknown[]): Yield {
  if (values.length === 0) return stats.dropped++, SKIP;
  stats.out += values.length;
  return new Many(values);
}


import { TimeoutError } from '../core/errors.js';
import type { RecordContext } from '../handler/record-context.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Calls `fn(record, ctx)`; with `ms`, a promise it returns fails with a TimeoutError after
 * ms, and `ctx.signal` (the run's signal too) aborts with it so the handler can stop its
 * own work. A synchronous handler is never timed: nothing can interrupt it on this thread.
 */
export function callHandler(fn: (record: unknown, ctx: RecordContext) => unknown, record: unknown, ctx: RecordContext, ms: number | undefined, runSignal: AbortSignal): unknown {
  if (ms === undefined) return fn(record, ctx);
  const controller = new AbortController();
  ctx.signal = AbortSignal.any([controller.signal, runSignal]);
  const result = fn(record, ctx);
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

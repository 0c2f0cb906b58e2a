import { UsageError } from '../core/errors.js';

/** `--restart`: how many times a worker that exited non-zero is started again. */
export type RestartLimit = number;

/** `never` → 0, `always` → Infinity, `N` → N. */
export function parseRestart(text: string): RestartLimit {
  if (text === 'never') return 0;
  if (text === 'always') return Number.POSITIVE_INFINITY;
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  throw new UsageError(`--restart ${JSON.stringify(text)}: expected never, always or a whole number`);
}

/** `--max-restarts-in N/SECONDS`: at most N restarts of one worker within any SECONDS. */
export interface RestartWindow {
  count: number;
  ms: number;
}

export function parseRestartWindow(text: string): RestartWindow {
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(text.trim());
  const count = Number(match?.[1]);
  const seconds = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || !(seconds > 0)) {
    throw new UsageError(`--max-restarts-in ${JSON.stringify(text)}: expected N/SECONDS, e.g. 5/60`);
  }
  return { count, ms: Math.round(seconds * 1000) };
}

/** A duration flag given in seconds (`0.5`, `10`) → milliseconds. */
export function parseSeconds(text: string, flag: string): number {
  const seconds = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(seconds)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a number of seconds, e.g. 0.5 or 10`);
  }
  return Math.round(seconds * 1000);
}

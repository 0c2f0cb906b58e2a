import { UsageError } from '../core/errors.js';

/** `--halt now|soon,fail=N|P%`, as GNU parallel reads it. */
export interface HaltPolicy {
  /** now: running jobs are killed; soon: they may finish. */
  when: 'now' | 'soon';
  /** Halt at this many failed jobs… */
  count: number | undefined;
  /** …or once this percentage of the jobs done so far failed. */
  percent: number | undefined;
}

/** GNU parallel checks a percentage only once 3 jobs are done, so one early failure is not 100%. */
const PERCENT_MIN_DONE = 3;

export function parseHalt(text: string): HaltPolicy {
  const match = /^(now|soon),fail=(?:(\d+)|(\d+(?:\.\d+)?)%)$/.exec(text.trim());
  const bad = (): UsageError => new UsageError(`--halt takes now,fail=N, soon,fail=N, now,fail=P% or soon,fail=P%, got ${JSON.stringify(text)}`);
  if (!match) throw bad();
  const count = match[2] === undefined ? undefined : Number(match[2]);
  const percent = match[3] === undefined ? undefined : Number(match[3]);
  if (count === 0 || (percent !== undefined && (percent <= 0 || percent > 100))) throw bad();
  return { when: match[1] as 'now' | 'soon', count, percent };
}

/** True when `failed` of `done` finished jobs trip the policy. */
export function shouldHalt(policy: HaltPolicy, failed: number, done: number): boolean {
  if (policy.count !== undefined) return failed >= policy.count;
  if (policy.percent === undefined || done < PERCENT_MIN_DONE) return false;
  return (failed / done) * 100 >= policy.percent;
}

export function describeHalt(policy: HaltPolicy): string {
  return `${policy.when},fail=${policy.count ?? `${policy.percent}%`}`;
}

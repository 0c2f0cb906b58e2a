import { UsageError } from '../core/errors.js';
import { parseDuration } from './parse-units.js';

/** `--window`: how records of one key are cut into groups. */
export type WindowSpec =
  | { type: 'count'; size: number }
  | { type: 'tumbling'; size: number }
  | { type: 'sliding'; size: number; step: number }
  | { type: 'session'; gap: number };

/** A record may fall in at most this many sliding windows: each is a separate group. */
const MAX_OVERLAP = 1000;

export function parseWindow(text: string): WindowSpec {
  const at = text.indexOf(':');
  const type = at < 0 ? text : text.slice(0, at);
  const arg = at < 0 ? '' : text.slice(at + 1);
  switch (type) {
    case 'count': {
      const size = Number(arg);
      if (!Number.isSafeInteger(size) || size < 1) throw new UsageError(`--window count:N takes a whole number of records, got ${JSON.stringify(arg)}`);
      return { type, size };
    }
    case 'tumbling':
      return { type, size: positive(arg, '--window tumbling:DURATION') };
    case 'sliding': {
      const [size, step] = arg.split('/');
      if (step === undefined) throw new UsageError('--window sliding:DURATION/STEP needs a step, e.g. sliding:1m/10s');
      const spec = { type, size: positive(size ?? '', '--window sliding:DURATION'), step: positive(step, '--window sliding:DURATION/STEP') } as const;
      if (spec.size / spec.step > MAX_OVERLAP) throw new UsageError(`--window sliding: DURATION/STEP puts each record in more than ${MAX_OVERLAP} windows`);
      return spec;
    }
    case 'session':
      return { type, gap: positive(arg, '--window session:GAP') };
    default:
      throw new UsageError(`--window takes count:N, tumbling:DURATION, sliding:DURATION/STEP or session:GAP, got ${JSON.stringify(text)}`);
  }
}

function positive(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (ms < 1) throw new UsageError(`${flag} must be at least 1ms`);
  return ms;
}

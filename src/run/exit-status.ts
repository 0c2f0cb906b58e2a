import type { StopCause } from './run-stop.js';
import { statusForSignal } from './run-stop.js';
import type { SlotEnd } from './worker-slot.js';

/** The largest exit status a process can report (it is taken mod 256). */
const MAX_STATUS = 255;

/**
 * op run's exit status. Undisturbed: the sum of the workers' final statuses, capped at 255
 * so that failures never wrap around to success (100 + 100 + 100 is 255, not 44). After
 * --failure-exit shutdown: the failing worker's status. After --success-exit shutdown: the
 * capped sum over workers that ended on their own (0 unless one had failed). After a
 * signal: 128 + its number. When the reader of stdout went away: 0, as everywhere in op.
 */
export function exitStatus(cause: StopCause | undefined, ends: SlotEnd[]): number {
  switch (cause?.kind) {
    case 'signal':
      return statusForSignal(cause.signal);
    case 'failure-exit':
      return Math.min(MAX_STATUS, cause.code);
    case 'closed-output':
      return 0;
    case 'success-exit':
      return cappedSum(ends.filter((end) => end.ownEnd));
    default:
      return cappedSum(ends);
  }
}

function cappedSum(ends: SlotEnd[]): number {
  return Math.min(MAX_STATUS, ends.reduce((sum, end) => sum + (end.status ?? 0), 0));
}

import { constants } from 'node:os';

/** The signals op run passes on to every worker's group (SIGKILL cannot be caught at all). */
export const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];

/** Why the workers are being stopped. */
export type StopCause =
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'failure-exit'; worker: number; code: number }
  | { kind: 'success-exit'; worker: number }
  | { kind: 'closed-output' };

/**
 * When and why op run stops its workers. The first stop asks them (the signal op run got,
 * or SIGTERM) and gives them --stop-timeout; a second signal, an impatient Ctrl-C, means
 * now: `hurry` aborts and the groups get SIGKILL.
 */
export class RunStop {
  cause: StopCause | undefined;
  private readonly stopped = new AbortController();
  private readonly hurried = new AbortController();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.cause === undefined) this.stop({ kind: 'signal', signal });
    else this.hurried.abort();
  };

  constructor() {
    for (const signal of FORWARDED) process.on(signal, this.onSignal);
  }

  /** Aborted by the first stop: no worker starts or restarts after it. */
  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  /** Aborted when the workers' groups are to be killed now. */
  get hurry(): AbortSignal {
    return this.hurried.signal;
  }

  /** The first cause wins; later ones change nothing. */
  stop(cause: StopCause): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    this.stopped.abort();
  }

  /** The signal the workers are asked to stop with. */
  get stopSignal(): NodeJS.Signals {
    return this.cause?.kind === 'signal' ? this.cause.signal : 'SIGTERM';
  }

  dispose(): void {
    for (const signal of FORWARDED) process.off(signal, this.onSignal);
  }
}

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export function statusForSignal(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

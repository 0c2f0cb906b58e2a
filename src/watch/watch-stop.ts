import { exitCodeForSignal } from '../core/exit-codes.js';

export type StopReason = 'SIGINT' | 'SIGTERM' | 'closed-output';

/**
 * When and why op watch stops. The first SIGINT/SIGTERM stops watching and gives runs in
 * progress --stop-timeout to finish; a second one cuts that wait short (runs are then
 * stopped at once, group by group), so an impatient Ctrl-C still leaves no process behind.
 */
export class WatchStop {
  reason: StopReason | undefined;
  /** Aborted by the first stop. */
  private readonly stopped = new AbortController();
  /** Aborted by a second signal: stop runs now. */
  private readonly hurried = new AbortController();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.reason === 'SIGINT' || this.reason === 'SIGTERM') this.hurried.abort();
    else this.stop(signal as StopReason);
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  get hurry(): AbortSignal {
    return this.hurried.signal;
  }

  /** Resolves on the first stop. */
  whenStopped(): Promise<void> {
    if (this.stopped.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.stopped.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.stopped.abort();
    // Nobody is left to read what runs would print: no reason to wait for them.
    if (reason === 'closed-output') this.hurried.abort();
  }

  /** 130 after SIGINT, 143 after SIGTERM; 0 when the reader went away. */
  get exitCode(): number {
    if (this.reason === 'SIGINT' || this.reason === 'SIGTERM') return exitCodeForSignal(this.reason);
    return 0;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

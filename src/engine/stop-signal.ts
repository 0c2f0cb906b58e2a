import { exitCodeForSignal } from '../core/exit-codes.js';
import { exitProcess } from '../handler/guard-process.js';

/** `halt`: the operator asked to start no more records (op each --halt); the exit status is its to decide. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'closed-output' | 'failed-output' | 'halt';

/**
 * Why and when a run stops early. The first SIGINT/SIGTERM stops reading and lets records
 * in flight finish; a second one aborts `ctx.signal` and exits at once (output already
 * written is whole lines, since every write is a run of whole lines).
 */
export class StopSignal {
  reason: StopReason | undefined;
  /** Aborted when handlers should give up: the output is gone, or a second signal came. */
  readonly handlers = new AbortController();
  private readonly listeners: Array<() => void> = [];
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.reason === 'SIGINT' || this.reason === 'SIGTERM') {
      this.handlers.abort(new Error(`stopped by ${signal}`));
      exitProcess(exitCodeForSignal(signal));
    }
    this.stop(signal as StopReason);
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get stopped(): boolean {
    return this.reason !== undefined;
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    if (reason === 'closed-output') this.handlers.abort(new Error('output closed'));
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** Runs `listener` when the run stops (e.g. to cut a blocked read short). */
  onStop(listener: () => void): () => void {
    if (this.reason) {
      listener();
      return () => {};
    }
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** The exit status the stop implies, if it implies one. */
  get exitCode(): number | undefined {
    if (this.reason === 'SIGINT' || this.reason === 'SIGTERM') return exitCodeForSignal(this.reason);
    if (this.reason === 'closed-output') return 0;
    return undefined;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

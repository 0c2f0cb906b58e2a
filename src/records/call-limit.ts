/**
 * The `--concurrency` bound on handler calls in flight, shared by every window of one
 * thread: chunks overlap (the next one starts while the last calls of the one before are
 * running), yet never more than `max` calls run at once.
 */
export class CallLimit {
  running = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly max: number) {}

  get full(): boolean {
    return this.running >= this.max;
  }

  take(): void {
    this.running++;
  }

  give(): void {
    this.running--;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves at the next `give`. */
  released(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }
}

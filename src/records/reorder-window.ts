import { CallLimit } from './call-limit.js';

interface Slot {
  done: boolean;
  text: string;
  error: unknown;
}

/**
 * Results of records in flight, released in input order (or completion order with
 * `unordered`). Bounded twice: at most `calls.max` calls running and at most `capacity`
 * results held behind a slow head, so memory never grows with the input.
 */
export class ReorderWindow {
  private slots: Slot[] = [];
  private head = 0;
  private ready = '';
  private inflight = 0;
  private wake: (() => void) | undefined;
  /** The first failure in completion order; the run stops taking records once it is set. */
  failure: unknown = undefined;
  failed = false;

  private readonly calls: CallLimit;
  private readonly capacity: number;
  private readonly ordered: boolean;

  /** `calls`: a limit shared with other windows of the thread; else one of `concurrency` of its own. */
  constructor(options: { concurrency: number; capacity: number; ordered: boolean; calls?: CallLimit | undefined }) {
    this.calls = options.calls ?? new CallLimit(options.concurrency);
    this.capacity = options.capacity;
    this.ordered = options.ordered;
  }

  /** Nothing held: a synchronous result can be written straight away. */
  get idle(): boolean {
    return this.inflight === 0 && this.head === this.slots.length;
  }

  get full(): boolean {
    return this.calls.full || this.slots.length - this.head >= this.capacity;
  }

  add(result: Promise<string>): void {
    this.inflight++;
    this.calls.take();
    const slot: Slot | undefined = this.ordered ? { done: false, text: '', error: undefined } : undefined;
    if (slot) this.slots.push(slot);
    result.then(
      (text) => this.settle(slot, text, undefined, false),
      (error: unknown) => this.settle(slot, '', error, true),
    );
  }

  /** A synchronous result that must wait behind records still in flight. */
  addDone(text: string): void {
    if (this.ordered) this.slots.push({ done: true, text, error: undefined });
    else this.ready += text;
  }

  /** A synchronous failure, ordered like any other result. */
  addFailed(error: unknown): void {
    this.failure ??= error;
    this.failed = true;
    if (this.ordered) this.slots.push({ done: true, text: '', error });
  }

  /** Everything that can be written now. Stops before a failed slot, so its error is `headFailure`. */
  take(): string {
    let out = this.ready;
    this.ready = '';
    if (!this.ordered) return out;
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!;
      if (!slot.done || slot.error !== undefined) break;
      out += slot.text;
      // Taken slots stay in the array until it is compacted (up to ~2,048 of them): drop the text now.
      slot.text = '';
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** The failure the run stops with: in input order, the first failed record. */
  get headFailure(): unknown {
    if (!this.ordered) return this.failure;
    const slot = this.slots[this.head];
    return slot?.error !== undefined ? slot.error : this.failure;
  }

  /** Resolves once there is room for another record (or something failed). */
  async waitForRoom(): Promise<void> {
    while (this.full && !this.failed) {
      if (this.inflight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
      // Only other windows' calls hold the limit: wait for one of them.
      else await this.calls.released();
    }
  }

  /** Resolves once nothing is in flight. */
  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private settle(slot: Slot | undefined, text: string, error: unknown, failed: boolean): void {
    this.inflight--;
    this.calls.give();
    if (failed) {
      this.failure ??= error;
      this.failed = true;
    }
    if (slot) {
      slot.done = true;
      slot.text = text;
      slot.error = failed ? error ?? new Error('failed') : undefined;
    } else if (!failed) {
      this.ready += text;
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

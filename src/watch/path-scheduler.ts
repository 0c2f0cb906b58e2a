import { backoffMs } from '../core/backoff.js';
import type { WatchEvent } from './expand-placeholders.js';

export type OnBusy = 'queue' | 'restart' | 'skip';

/** `unchanged`: the version was already processed, nothing ran; `gone`: the file went away. */
export type JobStatus = 'ok' | 'failed' | 'interrupted' | 'unchanged' | 'gone';

export interface Ticket {
  path: string;
  event: WatchEvent;
  /** 1 for the first run of this version, 2… for --retries. */
  attempt: number;
  /** Aborted to stop the run: `restart` (a newer version came), or the watcher is stopping. */
  signal: AbortSignal;
}

export type Job = (ticket: Ticket) => Promise<JobStatus>;

export interface SchedulerOptions {
  concurrency: number;
  onBusy: OnBusy;
  retries: number;
  retryDelay: number;
}

interface Slot {
  phase: 'queued' | 'running' | 'backoff';
  event: WatchEvent;
  attempt: number;
  /** A change seen while running, to run again after (queue) or at once (restart). */
  rerun: WatchEvent | undefined;
  abort: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs the job for each path, at most `concurrency` paths at once and never one path twice
 * at once. A path offered again while it runs follows --on-busy; a failed run is retried
 * after a backoff that does not hold a concurrency slot.
 */
export class PathScheduler {
  private readonly slots = new Map<string, Slot>();
  private readonly queue: string[] = [];
  private running = 0;
  private stopping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly job: Job, private readonly options: SchedulerOptions) {}

  get active(): number {
    return this.running;
  }

  offer(path: string, event: WatchEvent): void {
    if (this.stopping) return;
    const slot = this.slots.get(path);
    if (slot === undefined) {
      this.slots.set(path, { phase: 'queued', event, attempt: 1, rerun: undefined, abort: undefined, timer: undefined });
      this.queue.push(path);
      this.pump();
      return;
    }
    if (slot.phase === 'queued') return;
    if (slot.phase === 'backoff') {
      // A new version replaces the failed one: its own first attempt, now.
      clearTimeout(slot.timer);
      Object.assign(slot, { phase: 'queued', event, attempt: 1, timer: undefined });
      this.queue.push(path);
      this.pump();
      return;
    }
    if (this.options.onBusy === 'skip') return;
    // One rerun however many changes arrive during the run: it will see the latest version.
    slot.rerun = slot.rerun === 'add' ? 'add' : event;
    if (this.options.onBusy === 'restart') slot.abort?.abort(new Error('restart'));
  }

  /** Stop taking work: queued paths and pending retries are dropped, runs go on. */
  stop(): void {
    this.stopping = true;
    for (const path of this.queue.splice(0)) this.slots.delete(path);
    for (const [path, slot] of this.slots) {
      if (slot.phase === 'backoff') {
        clearTimeout(slot.timer);
        this.slots.delete(path);
      }
    }
    this.notifyIdle();
  }

  /** Aborts every run in progress (each job then stops its process group). */
  abortAll(reason: Error): void {
    for (const slot of this.slots.values()) slot.abort?.abort(reason);
  }

  /** Resolves when no job is running, or when `signal` aborts. */
  whenIdle(signal?: AbortSignal): Promise<void> {
    if (this.running === 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.idleWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private pump(): void {
    while (!this.stopping && this.running < this.options.concurrency) {
      const path = this.queue.shift();
      if (path === undefined) return;
      const slot = this.slots.get(path);
      if (slot !== undefined) this.start(path, slot);
    }
  }

  private start(path: string, slot: Slot): void {
    slot.phase = 'running';
    slot.abort = new AbortController();
    this.running++;
    const ticket: Ticket = { path, event: slot.event, attempt: slot.attempt, signal: slot.abort.signal };
    this.job(ticket)
      .catch((): JobStatus => 'failed')
      .then((status) => this.finish(path, slot, status));
  }

  private finish(path: string, slot: Slot, status: JobStatus): void {
    this.running--;
    slot.abort = undefined;
    if (this.stopping) {
      this.slots.delete(path);
    } else if (slot.rerun !== undefined) {
      Object.assign(slot, { phase: 'queued', event: slot.rerun, attempt: 1, rerun: undefined });
      this.queue.push(path);
    } else if (status === 'failed' && slot.attempt <= this.options.retries) {
      slot.phase = 'backoff';
      slot.timer = setTimeout(() => {
        Object.assign(slot, { phase: 'queued', attempt: slot.attempt + 1, timer: undefined });
        this.queue.push(path);
        this.pump();
      }, this.retryDelayFor(slot.attempt));
    } else {
      this.slots.delete(path);
    }
    this.pump();
    if (this.running === 0) this.notifyIdle();
  }

  private retryDelayFor(attempt: number): number {
    return Math.round(backoffMs(this.options.retryDelay, attempt));
  }

  private notifyIdle(): void {
    if (this.running !== 0) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}

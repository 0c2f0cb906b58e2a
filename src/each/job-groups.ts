import { isGroupAlive, signalGroup } from '../io/process-group.js';

/** A running job as the tracker sees it: its group, and how to end it. */
export interface TrackedJob {
  /** The job's pid, which is also its process group id. */
  readonly pgid: number;
  /** TERM to the group, KILL after `graceMs` if it is still there. */
  terminate(graceMs: number): void;
}

/**
 * Every process group op each started and has not seen end: running jobs, and groups whose
 * leader exited while something it started lives on (`cmd &`). On any way out, including
 * `process.exit()` after a second Ctrl-C, what is left gets SIGKILL, so no job outlives op.
 */
export class JobGroups {
  readonly running = new Set<TrackedJob>();
  private readonly lingering = new Set<number>();
  private readonly onExit = (): void => this.killAll();

  constructor() {
    process.on('exit', this.onExit);
  }

  add(job: TrackedJob): void {
    this.running.add(job);
  }

  /** The job's leader is gone; anything still in its group is ended when op ends. */
  remove(job: TrackedJob): void {
    this.running.delete(job);
    // One kill(2) per job; a group already empty (the usual case) costs nothing more.
    if (signalGroup(job.pgid, 0)) this.lingering.add(job.pgid);
  }

  /** TERM to every running group, KILL after `graceMs`. */
  terminateRunning(graceMs: number): void {
    for (const job of this.running) job.terminate(graceMs);
  }

  /** At the end of the run: TERM what jobs left behind, KILL after `graceMs`, wait for them to go. */
  async endLingering(graceMs: number): Promise<void> {
    const groups = [...this.lingering].filter(isGroupAlive);
    this.lingering.clear();
    if (groups.length === 0) return;
    for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    let alive = groups;
    while (alive.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      alive = alive.filter(isGroupAlive);
    }
    for (const pgid of alive) signalGroup(pgid, 'SIGKILL');
  }

  killAll(): void {
    for (const job of this.running) signalGroup(job.pgid, 'SIGKILL');
    for (const pgid of this.lingering) signalGroup(pgid, 'SIGKILL');
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

import { signalGroup } from '../io/process-group.js';
import type { Watchdog } from './watchdog.js';

/** Who a live process group belongs to. */
export interface GroupOwner {
  worker: number;
  generation: number;
}

/**
 * Every worker group that may still hold a process. The watchdog hears of each, and on any
 * exit of op run (a return, an uncaught error, process.exit) whatever is still listed gets
 * SIGKILL: the 'exit' event runs synchronously on every path but SIGKILL of op run itself,
 * which the watchdog and the parent-death signal cover.
 */
export class GroupRegistry {
  readonly groups = new Map<number, GroupOwner>();
  private readonly onExit = (): void => {
    this.signalAll('SIGKILL');
  };

  constructor(private readonly watchdog: Watchdog | undefined) {
    process.on('exit', this.onExit);
  }

  add(pgid: number, owner: GroupOwner): void {
    this.groups.set(pgid, owner);
    this.watchdog?.watch(pgid);
  }

  /** The group has no live process left. */
  delete(pgid: number): void {
    if (this.groups.delete(pgid)) this.watchdog?.forget(pgid);
  }

  /** Sends `signal` to every listed group; returns the owners it reached. */
  signalAll(signal: NodeJS.Signals): GroupOwner[] {
    const reached: GroupOwner[] = [];
    for (const [pgid, owner] of this.groups) {
      try {
        if (signalGroup(pgid, signal)) reached.push(owner);
      } catch {
        // EPERM: the id now names a group that is not ours; it is not a worker any more.
      }
    }
    return reached;
  }

  dispose(): void {
    process.off('exit', this.onExit);
    this.watchdog?.close();
  }
}

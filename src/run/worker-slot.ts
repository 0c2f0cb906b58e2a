import { setTimeout as sleep } from 'node:timers/promises';
import type { Sink } from '../io/open-sink.js';
import { isGroupAlive, signalGroup, waitForGroupExit } from '../io/process-group.js';
import type { EventLog } from './event-log.js';
import type { GroupRegistry } from './group-registry.js';
import { pipeLines, type LinePipe } from './pipe-lines.js';
import { RestartBudget } from './restart-budget.js';
import type { RunOptions } from './run-options.js';
import type { RunStop } from './run-stop.js';
import { spawnWorker, statusOf, type WorkerExit } from './spawn-worker.js';
import { workerEnv, type WorkerPlace } from './worker-env.js';

/**
 * Once a worker's group is empty, its pipes close at once, unless a process that left the
 * group (setsid) still holds them. Output quiet for 2 s with the sink keeping up is then
 * taken as ended, so such a process cannot hold op run open.
 */
const OUTPUT_QUIET_MS = 2_000;
/** After SIGKILL, the kernel's time to finish a group off. */
const KILL_WAIT_MS = 5_000;

/** What the workers share: the options, the stop, the groups, and where output goes. */
export interface Supervision {
  options: RunOptions;
  env: NodeJS.ProcessEnv;
  stop: RunStop;
  groups: GroupRegistry;
  events: EventLog;
  stderr: Sink;
  /** One line of op run's own on stderr. */
  report(text: string): void;
}

/** How a worker ended. */
export interface SlotEnd {
  /** Its final exit status; undefined when it never started (stopped during --startup-stagger). */
  status: number | undefined;
  /** Ended of its own accord, not stopped by op run. */
  ownEnd: boolean;
}

/**
 * One worker: started after its stagger, restarted after non-zero exits as the policy
 * allows, until it succeeds, gives up, or op run stops it. `onFinal` hears of an exit that
 * is final while op run is not stopping, so the exit policies can act on it.
 */
export class WorkerSlot {
  private generation = 0;
  private readonly budget: RestartBudget;

  constructor(
    readonly place: WorkerPlace,
    private readonly sup: Supervision,
    private readonly stdout: Sink,
    private readonly onFinal: (slot: WorkerSlot, status: number) => void,
  ) {
    const { options } = sup;
    this.budget = new RestartBudget(options.restart, options.restartWindow, options.restartDelayMs);
  }

  get label(): string {
    return `worker-${this.place.rank}#${this.generation}`;
  }

  async run(): Promise<SlotEnd> {
    const { stop, options, events } = this.sup;
    const stagger = this.place.localRank * options.staggerMs;
    if (stagger > 0) await sleep(stagger, undefined, { signal: stop.signal }).catch(() => undefined);
    if (stop.signal.aborted) return { status: undefined, ownEnd: false };
    for (;;) {
      const { exit, ms } = await this.runOnce();
      const status = statusOf(exit);
      if (stop.signal.aborted) return { status, ownEnd: false };
      if (status === 0) {
        this.onFinal(this, status);
        return { status, ownEnd: true };
      }
      const verdict = this.budget.afterFailure(ms, Date.now());
      const how = describeExit(exit, ms);
      if (!verdict.restart) {
        if (verdict.giveUp !== undefined) {
          events.write('give-up', this.place.rank, this.generation, { reason: verdict.giveUp, code: status });
          this.sup.report(`${this.label}: ${how}; giving up: ${verdict.giveUp}`);
        } else {
          this.sup.report(`${this.label}: ${how}`);
        }
        this.onFinal(this, status);
        return { status, ownEnd: true };
      }
      events.write('restart', this.place.rank, this.generation, { delay: verdict.delayMs, code: status });
      this.sup.report(`${this.label}: ${how}; restart ${this.budget.count} in ${describeDelay(verdict.delayMs)}`);
      await sleep(verdict.delayMs, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) return { status, ownEnd: false };
      this.generation += 1;
    }
  }

  /** One generation, from start until its group is empty and its last output line written. */
  private async runOnce(): Promise<{ exit: WorkerExit; ms: number }> {
    const { options, groups, events, stderr } = this.sup;
    const { rank } = this.place;
    const generation = this.generation;
    const started = Date.now();
    const child = spawnWorker(options.command, workerEnv(this.sup.env, this.place, generation));
    const pgid = child.pid;
    if (pgid !== undefined) {
      groups.add(pgid, { worker: rank, generation });
      events.write('start', rank, generation, { pid: pgid });
    }
    const tag = `[${this.label}]`;
    const pipes = [
      pipeLines(child.stdout, this.stdout, options.stdout.kind === 'prefix' ? Buffer.from(`${tag}[stdout] `) : undefined),
      pipeLines(child.stderr, stderr, Buffer.from(`${tag}[stderr] `)),
    ];
    const exit = await child.exited;
    const ms = Date.now() - started;
    if (exit.error !== undefined) this.sup.report(`${this.label}: cannot start ${JSON.stringify(options.command[0])}: ${exit.error}`);
    if (pgid !== undefined) await this.endGroup(pgid);
    await drain(pipes);
    if (pgid !== undefined) groups.delete(pgid);
    events.write('exit', rank, generation, { code: exit.code, signal: exit.signal, ms, error: exit.error });
    return { exit, ms };
  }

  /**
   * The worker exited; what it started in its group must not outlive it. Outside a stop:
   * SIGTERM, --stop-timeout, SIGKILL. During a stop the group already got its signal, and
   * the same timeout runs (a second Ctrl-C cuts it short).
   */
  private async endGroup(pgid: number): Promise<void> {
    const { stop, options } = this.sup;
    if (!isGroupAlive(pgid)) return;
    if (!stop.signal.aborted) signalGroup(pgid, 'SIGTERM');
    if (await waitForGroupExit(pgid, options.stopTimeoutMs, stop.hurry)) return;
    signalGroup(pgid, 'SIGKILL');
    await waitForGroupExit(pgid, KILL_WAIT_MS);
  }
}

/**
 * Waits until every pipe ended, or went quiet with nothing left for the sink (see
 * OUTPUT_QUIET_MS). Quiet counts from now at the earliest: the worker's exit may be seen
 * before the last output it wrote is read, however long it was silent before.
 */
async function drain(pipes: LinePipe[]): Promise<void> {
  const all = Promise.all(pipes.map((pipe) => pipe.done));
  const begun = Date.now();
  let ended = false;
  void all.then(() => (ended = true));
  const quiet = (): boolean => Date.now() - begun >= OUTPUT_QUIET_MS && pipes.every((pipe) => pipe.idleMs() >= OUTPUT_QUIET_MS);
  while (!ended && !quiet()) await Promise.race([all, sleep(250)]);
  for (const pipe of pipes) pipe.finish();
}

/** `exit 3 after 1004 ms`, `killed by SIGKILL after 20 ms`. */
function describeExit(exit: WorkerExit, ms: number): string {
  if (exit.error !== undefined) return `could not start (${exit.error})`;
  if (exit.signal !== null) return `killed by ${exit.signal} after ${ms} ms`;
  return `exit ${exit.code ?? '?'} after ${ms} ms`;
}

/** `350 ms`, `1.8 s`. */
function describeDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { EventLog } from './event-log.js';
import { exitStatus } from './exit-status.js';
import { GroupRegistry } from './group-registry.js';
import type { RunOptions, StdoutMode } from './run-options.js';
import { RunStop } from './run-stop.js';
import { Watchdog } from './watchdog.js';
import { fillWorkerTemplate, placeOf, type WorkerPlace } from './worker-env.js';
import { WorkerSlot, type Supervision } from './worker-slot.js';

/**
 * `op run`: N workers on this host, each its own process group, supervised until every one
 * has ended; returns the exit status. Every output file is opened before the first worker
 * starts, so a bad path is a usage error with nothing running yet.
 */
export async function runWorkers(options: RunOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const places = Array.from({ length: options.workers }, (_, k) => placeOf(k, options.workers, options.nodes, options.nodeRank));
  let closeOutput = (): void => {};
  const stdouts = openStdouts(options.stdout, places, () => closeOutput());
  const events = new EventLog(options.events === undefined ? undefined : openSink(options.events, () => {}, 'a'));
  const stderr = openSink('/dev/stderr');
  const stop = new RunStop();
  closeOutput = () => stop.stop({ kind: 'closed-output' });
  const groups = new GroupRegistry(new Watchdog());
  const report = (text: string): void => void stderr.write(`op run: ${text}\n`);
  const sup: Supervision = { options, env, stop, groups, events, stderr, report };
  let deadline: NodeJS.Timeout | undefined;

  const killAll = (why: string): void => {
    const reached = groups.signalAll('SIGKILL');
    for (const owner of reached) events.write('kill', owner.worker, owner.generation, { signal: 'SIGKILL' });
    if (reached.length > 0) report(`SIGKILL to ${count(reached.length, 'worker')} ${why}`);
  };
  stop.signal.addEventListener('abort', () => {
    const cause = stop.cause;
    const signal = stop.stopSignal;
    const reached = groups.signalAll(signal);
    for (const owner of reached) {
      if (cause?.kind === 'signal') events.write('signal', owner.worker, owner.generation, { signal });
      else events.write('shutdown', owner.worker, owner.generation, { reason: cause?.kind, by: cause !== undefined && 'worker' in cause ? cause.worker : null, signal });
    }
    if (cause?.kind === 'signal') report(`${signal}: passed on to ${count(reached.length, 'worker')}`);
    else if (cause?.kind === 'failure-exit') report(`worker-${cause.worker} failed with ${cause.code}: stopping the others (--failure-exit shutdown)`);
    else if (cause?.kind === 'success-exit') report(`worker-${cause.worker} succeeded: stopping the others (--success-exit shutdown)`);
    deadline = setTimeout(() => killAll(`still running after --stop-timeout ${options.stopTimeoutMs / 1000} s`), options.stopTimeoutMs);
  });
  stop.hurry.addEventListener('abort', () => killAll('at once (second signal)'));

  try {
    const slots = places.map(
      (place, k) =>
        new WorkerSlot(place, sup, stdouts[k] as Sink, (slot, status) => {
          if (status === 0 && options.successExit === 'shutdown') stop.stop({ kind: 'success-exit', worker: slot.place.rank });
          if (status !== 0 && options.failureExit === 'shutdown') stop.stop({ kind: 'failure-exit', worker: slot.place.rank, code: status });
        }),
    );
    const ends = await Promise.all(slots.map((slot) => slot.run()));
    const failed = await endOutputs(...new Set(stdouts), events, stderr);
    if (failed !== undefined) throw failed;
    return exitStatus(stop.cause, ends);
  } finally {
    clearTimeout(deadline);
    stop.dispose();
    groups.dispose();
  }
}

/** One shared stdout (lines, prefix), or one file per worker with its rank filled in. */
function openStdouts(mode: StdoutMode, places: WorkerPlace[], onClosed: () => void): Sink[] {
  if (mode.kind !== 'files') {
    const shared = openSink(undefined, onClosed);
    return places.map(() => shared);
  }
  return places.map((place) => openSink(fillWorkerTemplate(mode.template, place)));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

import { expandCommand, placeholdersFor } from './expand-placeholders.js';
import type { Job, JobStatus, Ticket } from './path-scheduler.js';
import { isGroupAlive, terminateGroup } from '../io/process-group.js';
import type { ProcessedFiles } from './processed-files.js';
import { startCommand } from './run-command.js';
import { describeRun, logLine, type RunReport } from './run-report.js';
import { statVersionNow } from './settle-files.js';

/** SIGTERM, then 2 s for the group to exit before SIGKILL (a flush-and-exit is well within it). */
export const KILL_GRACE_MS = 2_000;

export interface CommandJobOptions {
  command: string[];
  retries: number;
  processed: ProcessedFiles;
  /** --log FILE, one NDJSON line per run. */
  log: ((line: string) => void) | undefined;
}

/**
 * The job of `op watch DIR -- COMMAND`: one run of COMMAND for a file version not yet done.
 * Groups still holding processes after their command exited (`cmd &` inside it) are
 * remembered, so a stop can end them too: no orphans.
 */
export function makeCommandJob(options: CommandJobOptions, lingering: Set<number>): Job {
  const { processed } = options;
  return async (ticket: Ticket): Promise<JobStatus> => {
    const { path, event, attempt } = ticket;
    // The last look, right before the spawn with nothing awaited in between: a file deleted
    // while its run was due (queued, held for a writer, in backoff) is skipped, not failed.
    const version = statVersionNow(path);
    if (version === undefined) return 'gone';
    if (attempt === 1 && processed.isDone(path, version)) return 'unchanged';
    processed.begin(path, event, version, attempt);
    const startedAt = new Date();
    const run = startCommand(expandCommand(options.command, placeholdersFor(path, event)), { OP_WATCH_PATH: path, OP_WATCH_EVENT: event });
    let ended = false;
    let stopping: Promise<unknown> | undefined;
    const stop = (): void => {
      if (!ended) stopping = run.terminate(KILL_GRACE_MS);
    };
    ticket.signal.addEventListener('abort', stop, { once: true });
    const result = await run.result;
    ended = true;
    ticket.signal.removeEventListener('abort', stop);
    await stopping;
    if (stopping === undefined && run.pid !== undefined && isGroupAlive(run.pid)) lingering.add(run.pid);
    const ok = stopping === undefined && result.exitCode === 0;
    const status = stopping !== undefined ? 'interrupted' : ok ? 'ok' : 'failed';
    const final = status !== 'interrupted' && (ok || attempt > options.retries);
    processed.finish(path, event, version, status, { attempts: attempt, final, exitCode: result.exitCode ?? null });
    const stoppedFor = stopping === undefined ? undefined : (ticket.signal.reason as Error | undefined)?.message === 'restart' ? 'restart' : 'stop';
    const report: RunReport = { path, event, attempt, maxAttempts: options.retries + 1, status, stoppedFor, startedAt, result };
    process.stderr.write(describeRun(report));
    options.log?.(logLine(report));
    return status;
  };
}

/** At stop: end what runs left behind in their groups. */
export async function stopLingering(lingering: Set<number>): Promise<void> {
  await Promise.all([...lingering].filter(isGroupAlive).map((pgid) => terminateGroup(pgid, KILL_GRACE_MS)));
  lingering.clear();
}

import { formatError } from '../core/format-error.js';
import { OpError, UsageError } from '../core/errors.js';
import { openSink, type Sink } from '../io/open-sink.js';
import { makeCommandJob, stopLingering } from './command-job.js';
import { PathFilter } from './ignore-rules.js';
import { makeEventJob, makeRecordsJob } from './output-jobs.js';
import { PathScheduler, type Job } from './path-scheduler.js';
import { planStart } from './plan-start.js';
import { ProcessedFiles } from './processed-files.js';
import { settleFiles } from './settle-files.js';
import { StateFile } from './state-file.js';
import { FileWatcher } from './watch-files.js';
import type { WatchOptions } from './watch-options.js';
import { WatchStop } from './watch-stop.js';
import { WriterCheck } from './writer-check.js';

/**
 * `op watch`: watch, process each file version once, and on SIGINT/SIGTERM stop watching,
 * give runs --stop-timeout to finish, stop the rest group by group, save the state and
 * return 130/143. Resolves with the exit status; it never calls process.exit().
 */
export async function runWatch(options: WatchOptions): Promise<number> {
  const state = StateFile.load(options.state);
  state.save();
  await state.flush().catch((error: Error) => {
    throw new UsageError(error.message);
  });
  const processed = new ProcessedFiles(state);
  const stop = new WatchStop();
  const sink: Sink | undefined = options.mode === 'command' ? undefined : openSink(undefined, () => stop.stop('closed-output'));
  const log = options.log === undefined ? undefined : openSink(options.log, () => {}, 'a');
  const lingering = new Set<number>();
  const work: Job =
    options.mode === 'command'
      ? makeCommandJob({ command: options.command, retries: options.retries, processed, log: log && ((line) => void log.write(line)) }, lingering)
      : options.mode === 'records'
        ? makeRecordsJob(processed, sink as Sink)
        : makeEventJob(processed, sink as Sink);
  // A job that throws (a file it cannot read, a command execa refuses) fails that file, loudly.
  const job: Job = (ticket) =>
    work(ticket).catch((error: unknown) => {
      process.stderr.write(formatError(new OpError(`${ticket.path}: ${(error as Error).message}`, { cause: error }), 'op watch'));
      return 'failed' as const;
    });
  const scheduler = new PathScheduler(job, { concurrency: options.concurrency, onBusy: options.onBusy, retries: options.retries, retryDelay: options.retryDelay });
  const filter = new PathFilter(options.dirs, { match: options.match, ignore: options.ignore }, [options.state, options.log].filter((path) => path !== undefined));
  const watcher = new FileWatcher(
    { dirs: options.dirs, depth: options.depth, filter, settleMs: options.settle, debounceMs: options.debounce, followSymlinks: options.followSymlinks, writers: new WriterCheck() },
    {
      file: (path, event) => scheduler.offer(path, event),
      unlink: (path) => processed.forget(path),
      error: (error) => process.stderr.write(formatError(new OpError(`watching: ${error.message}`), 'op watch')),
    },
  );
  try {
    const existing = await Promise.race([watcher.start(), stop.whenStopped().then(() => undefined)]);
    if (existing !== undefined) {
      const items = await planStart(existing, options, processed, filter);
      // One line when watching starts: files made from here on are seen as they come.
      process.stderr.write(`op watch: watching ${options.dirs.join(', ')}: ${existing.length} ${existing.length === 1 ? 'file' : 'files'} there, ${items.length} to process\n`);
      const events = new Map(items.map((item) => [item.path, item.event]));
      void settleFiles(items.map((item) => item.path), options.settle, (path) => watcher.offer(path, events.get(path) ?? 'add'), stop.signal);
    }
    await stop.whenStopped();
  } finally {
    await watcher.close();
    scheduler.stop();
    await finishRuns(scheduler, options.stopTimeout, stop.hurry);
    await stopLingering(lingering);
    stop.dispose();
  }
  await state.flush();
  await sink?.end();
  await log?.end();
  return stop.exitCode;
}

/** Runs in progress get `stopTimeout` ms (less on a second signal), then are stopped. */
async function finishRuns(scheduler: PathScheduler, stopTimeout: number, hurry: AbortSignal): Promise<void> {
  if (scheduler.active === 0) return;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), stopTimeout);
  const onHurry = (): void => deadline.abort();
  hurry.addEventListener('abort', onHurry, { once: true });
  if (hurry.aborted) deadline.abort();
  await scheduler.whenIdle(deadline.signal);
  clearTimeout(timer);
  hurry.removeEventListener('abort', onHurry);
  scheduler.abortAll(new Error('stop'));
  await scheduler.whenIdle();
}

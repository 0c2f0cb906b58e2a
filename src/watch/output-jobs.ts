import { formatError } from '../core/format-error.js';
import { OpError } from '../core/errors.js';
import type { Sink } from '../io/open-sink.js';
import type { Job, JobStatus, Ticket } from './path-scheduler.js';
import type { ProcessedFiles } from './processed-files.js';
import { streamNewRecords } from './records-tail.js';
import { statVersion } from './settle-files.js';

/** `op watch DIR`: one NDJSON event per file version, for whatever reads stdout. */
export function makeEventJob(processed: ProcessedFiles, sink: Sink): Job {
  return async ({ path, event }: Ticket): Promise<JobStatus> => {
    const version = await statVersion(path);
    if (version === undefined) return 'gone';
    if (processed.isDone(path, version)) return 'unchanged';
    const line = JSON.stringify({ event, path, size: version.size, mtime: new Date(version.mtimeMs).toISOString() }) + '\n';
    await sink.write(line);
    processed.finish(path, event, version, 'ok', { attempts: 1, final: true });
    return 'ok';
  };
}

/**
 * `op watch DIR --records`: the records of each new file, then of the whole lines appended
 * to it, each once. Lines that are not JSON are reported like `op map` reports them
 * (`file:3: SyntaxError: …`) and skipped.
 */
export function makeRecordsJob(processed: ProcessedFiles, sink: Sink): Job {
  return async ({ path, event, signal }: Ticket): Promise<JobStatus> => {
    const seen = await statVersion(path);
    if (seen === undefined) return 'gone';
    if (processed.isDone(path, seen)) return 'unchanged';
    let read: Awaited<ReturnType<typeof streamNewRecords>>;
    try {
      read = await streamNewRecords(path, processed.position(path), {
        records: (text) => sink.write(text),
        problem: (line, message, excerpt) => process.stderr.write(formatError(new OpError(message, { place: { source: path, line }, excerpt }), 'op watch')),
      }, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      process.stderr.write(formatError(new OpError(`${path}: ${(error as Error).message}`), 'op watch'));
      return 'failed';
    }
    // Cut short by a stop: the rest of the file is for the next start (--state keeps the offset).
    const outcome = signal.aborted ? 'interrupted' : 'ok';
    processed.finish(path, event, read.version, outcome, { attempts: 1, final: outcome === 'ok', position: read.position });
    return outcome;
  };
}

import type { WatchEvent } from './expand-placeholders.js';
import type { RunResult } from './run-command.js';

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface RunReport {
  path: string;
  event: WatchEvent;
  attempt: number;
  /** 1 + --retries. */
  maxAttempts: number;
  status: RunStatus;
  /** Why an interrupted run was stopped. */
  stoppedFor: 'restart' | 'stop' | undefined;
  startedAt: Date;
  result: RunResult;
}

/**
 * One run, as the user reads it on stderr: the file, how it ended, how long it took, then
 * the last lines the command wrote to stderr, indented.
 * `op watch: in/a.ndjson: exit 1 in 35 ms (attempt 1 of 3)`
 */
export function describeRun(report: RunReport): string {
  const { result } = report;
  let how: string;
  if (report.status === 'interrupted') {
    how = report.stoppedFor === 'restart' ? 'stopped, the file changed: starting again' : 'stopped: op watch is stopping';
  } else if (result.spawnError !== undefined) {
    how = `cannot run the command: ${result.spawnError}`;
  } else if (result.signal !== undefined) {
    how = `killed by ${result.signal} after ${result.durationMs} ms`;
  } else {
    how = `exit ${result.exitCode ?? '?'} in ${result.durationMs} ms`;
  }
  if (report.maxAttempts > 1 && report.status === 'failed') how += ` (attempt ${report.attempt} of ${report.maxAttempts})`;
  let text = `op watch: ${visible(report.path)}: ${how}\n`;
  if (result.stderrTail !== '') text += result.stderrTail.split('\n').map((line) => `  ${visible(line)}\n`).join('');
  return text;
}

/** The same run as one NDJSON line, for --log FILE. */
export function logLine(report: RunReport): string {
  const { result } = report;
  return (
    JSON.stringify({
      path: report.path,
      event: report.event,
      status: report.status,
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      error: result.spawnError ?? null,
      attempt: report.attempt,
      start: report.startedAt.toISOString(),
      ms: result.durationMs,
      stderr: result.stderrTail,
    }) + '\n'
  );
}

/** A file name or a command's output may hold control characters; keep the terminal sane. */
function visible(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it makes visible.
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

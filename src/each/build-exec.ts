import type { EachSpec } from './each-spec.js';
import { ExecError } from './exec-error.js';
import type { JobOutcome } from './spawn-job.js';

/** The "exec" field of an output record. */
export interface ExecRecord {
  argv: string[];
  exit: number | null;
  signal: string | null;
  ms: number;
  attempt: number;
  stdout?: unknown;
  stderr?: string;
  /** A captured stream was cut at --max-output. */
  truncated?: true;
  /** A captured stream held bytes that are not UTF-8; each became U+FFFD. */
  invalidUtf8?: true;
  timedOut?: true;
}

export interface Exec {
  record: ExecRecord;
  stderrTail: string;
  /** --stdout-json and stdout was not JSON. */
  jsonError: string | undefined;
}

/** Exit status a shell gives a command it cannot find, and one it cannot execute. */
const NOT_FOUND = 127;
const NOT_EXECUTABLE = 126;

export function buildExec(argv: string[], outcome: JobOutcome, attempt: number, spec: EachSpec): Exec {
  const exit = outcome.spawnError === 'ENOENT' ? NOT_FOUND : outcome.spawnError === 'EACCES' ? NOT_EXECUTABLE : outcome.exit;
  const record: ExecRecord = { argv, exit, signal: outcome.signal, ms: outcome.ms, attempt };
  let jsonError: string | undefined;
  const out = outcome.stdout?.text();
  const err = outcome.stderr?.text();
  if (out) {
    record.stdout = out.text;
    if (spec.stdoutJson) {
      const parsed = parseJsonOutput(out.text);
      if (parsed.ok) record.stdout = parsed.value;
      else jsonError = out.truncated ? `stdout is not JSON: cut at --max-output ${spec.maxOutput}` : `stdout is not JSON: ${parsed.error}`;
    }
  }
  if (err) record.stderr = err.text;
  if (out?.truncated || err?.truncated) record.truncated = true;
  if (out?.invalidUtf8 || err?.invalidUtf8) record.invalidUtf8 = true;
  if (outcome.timedOut) record.timedOut = true;
  return { record, stderrTail: outcome.stderrTail, jsonError };
}

/** Undefined when the job succeeded: an exit status in --ok-codes, no signal, and stdout as asked. */
export function failureOf(exec: Exec, outcome: JobOutcome, spec: EachSpec): ExecError | undefined {
  const { record } = exec;
  const details = { argv: record.argv, exit: record.exit, signal: record.signal, stderr: exec.stderrTail };
  const name = record.argv[0] ?? '';
  if (outcome.spawnError !== undefined) {
    if (record.exit === NOT_FOUND) return new ExecError(`command not found: ${name}`, details, false);
    if (record.exit === NOT_EXECUTABLE) return new ExecError(`permission denied: ${name}`, details, false);
    return new ExecError(`cannot run ${name}: ${outcome.spawnError}`, details, false);
  }
  let message: string;
  if (outcome.timedOut) message = `timed out after ${spec.timeout} ms (${record.signal ?? `exit ${record.exit}`})`;
  else if (record.signal !== null) message = `killed by ${record.signal}`;
  else if (record.exit === null || !spec.okCodes.has(record.exit)) message = `exit ${record.exit}`;
  else if (exec.jsonError !== undefined) message = exec.jsonError;
  else return undefined;
  const last = lastLine(exec.stderrTail);
  return new ExecError(last ? `${message}: ${last}` : message, details);
}

function lastLine(text: string): string {
  const at = text.lastIndexOf('\n');
  const line = at < 0 ? text : text.slice(at + 1);
  return line.length > 200 ? line.slice(0, 200) + '…' : line;
}

/** One JSON value, or else NDJSON lines as an array (blank lines skipped). */
function parseJsonOutput(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const values: unknown[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        values.push(JSON.parse(line));
      } catch {
        return { ok: false, error: (error as Error).message };
      }
    }
    return { ok: true, value: values };
  }
}

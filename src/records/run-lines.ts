import type { InputError } from '../core/errors.js';
import { isBlankText } from '../io/is-blank-line.js';
import type { RecordRunner } from './record-runner.js';
import type { ReorderWindow } from './reorder-window.js';

/** Where one call to runLines starts, and how it reports. */
export interface LineRun {
  runner: RecordRunner;
  window: ReorderWindow;
  source: string;
  /** Index the first record of these lines gets; advanced as records start. */
  nextIndex: number;
  /** Called with output that is ready when the window is full and before returning. */
  write: (out: string) => Promise<void> | void;
  /** True when no more records should start (stopped, or something failed). */
  halted: () => boolean;
  /** Called before each record starts (the --timeout watchdog's sign of life in workers). */
  beforeRecord?: (() => void) | undefined;
  /** Lines not to run (journaled): they keep their record index. */
  skip?: Set<number> | undefined;
}

/**
 * Runs whole lines through the runner: the loop the inline path and every worker share.
 */
export function runLines(
  run: LineRun,
  lines: string[],
  bad: Map<number, InputError> | undefined,
  firstLine: number,
  start: LineStart = (text, line, index, why) => run.runner.run(text, line, index, run.source, why),
): Promise<void> {
  return runRecords(run, lines.length, (k) => {
    const text = lines[k]!;
    const why = bad?.get(k);
    if (why === undefined && isBlankText(text)) return undefined;
    if (run.skip?.has(firstLine + k)) {
      run.nextIndex++;
      return undefined;
    }
    return start(text, firstLine + k, run.nextIndex++, why);
  });
}

/** What one non-blank line starts: a record (the default), or a place in a batch. */
export type LineStart = (text: string, line: number, index: number, bad: InputError | undefined) => string | Promise<string> | undefined;

/**
 * Starts records 0..count-1 (`start` returns undefined for a line that is no record).
 * Synchronous results go straight into one output string; asynchronous ones wait in the
 * window, which bounds what is in flight. A synchronous failure is queued in order like
 * any other result, so the caller decides what to do with it after the window drains.
 */
export async function runRecords(run: LineRun, count: number, start: (k: number) => string | Promise<string> | undefined): Promise<void> {
  const window = run.window;
  let out = '';
  for (let k = 0; k < count; k++) {
    let result: string | Promise<string> | undefined;
    run.beforeRecord?.();
    try {
      result = start(k);
    } catch (error) {
      window.addFailed(error);
      break;
    }
    if (result === undefined) continue;
    if (typeof result === 'string') {
      if (window.idle) out += result;
      else window.addDone(result);
      continue;
    }
    window.add(result);
    if (window.full) {
      // Blocked on slow records: hand on what is ready rather than sit on it.
      out += window.take();
      if (out) await run.write(out);
      out = '';
      await window.waitForRoom();
    }
    if (run.halted()) break;
  }
  out += window.take();
  if (out) await run.write(out);
}

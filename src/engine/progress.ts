import { fitColumns, showStatusLine, type StatusLineOptions } from '../io/status-line.js';

/** What the progress line reads, each time it is drawn. */
export interface ProgressView {
  /** Units finished so far (records; jobs for op each): the rate is of these. */
  done(): number;
  /** The fields saying what is done, first on the line (default: `12,345 records`). */
  fields?: (() => string[]) | undefined;
  /** The part of the input processed so far, 0 to 1; undefined when the input's size is unknown. */
  fraction(): number | undefined;
}

/** One reading of a ProgressView, with the seconds since the start. */
export interface ProgressState {
  done: number;
  fields: string[] | undefined;
  fraction: number | undefined;
  seconds: number;
}

/**
 * `op map: 12,345 records  4,567/s  42%  ETA 0:13` on stderr, kept at the bottom of a
 * terminal (io/status-line.ts). The percentage and the ETA come from input bytes whose
 * results were delivered, not from bytes read: reading runs ahead of the work.
 */
export function startProgress(command: string, view: ProgressView, options?: StatusLineOptions): () => void {
  const started = performance.now();
  return showStatusLine((columns) => formatProgress(command, { done: view.done(), fields: view.fields?.(), fraction: view.fraction(), seconds: (performance.now() - started) / 1000 }, columns), options);
}

/** Fields in the order they are dropped when the line is too wide: the rate first, the count never. */
const DROP_ORDER = ['rate', 'eta', 'percent'] as const;

/** The line for `state`, at most `columns` characters (whole fields are dropped first). */
export function formatProgress(command: string, state: ProgressState, columns?: number): string {
  const { done, fraction, seconds } = state;
  const parts: Array<{ kind: 'count' | (typeof DROP_ORDER)[number]; text: string }> = (state.fields ?? [`${count(done)} records`]).map((text) => ({ kind: 'count', text }));
  parts.push({ kind: 'rate', text: `${formatRate(seconds > 0 ? done / seconds : 0)}/s` });
  if (fraction !== undefined) {
    const part = Math.min(1, Math.max(0, fraction));
    parts.push({ kind: 'percent', text: `${Math.floor(part * 100)}%` });
    // Time per unit of input so far, times the input left.
    if (part > 0) parts.push({ kind: 'eta', text: `ETA ${formatDuration((seconds * (1 - part)) / part)}` });
  }
  const join = (): string => `${command}: ${parts.map((p) => p.text).join('  ')}`;
  let line = join();
  for (const kind of DROP_ORDER) {
    if (columns === undefined || line.length <= columns) break;
    const at = parts.findIndex((p) => p.kind === kind);
    if (at >= 0) parts.splice(at, 1);
    line = join();
  }
  return columns === undefined ? line : fitColumns(line, columns);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Whole units a second, with one decimal below 10 (a slow handler's 0.4/s is not 0/s). */
function formatRate(rate: number): string {
  return rate >= 10 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
}

/** `0:42`, `12:03`, `1:02:05`. */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Counters the progress line reads; updated by the engine as it goes. */
export interface ProgressCounters {
  /** Records taken in so far: read from the runner's own count, so nothing is counted twice. */
  records: () => number;
  bytes: number;
  /** Total input bytes, when every input is a regular file. */
  totalBytes: number | undefined;
}

/** 250 ms: often enough to look live, rare enough to cost nothing next to the records. */
const INTERVAL_MS = 250;

/** A live line on stderr: records, rate, and percent when the input size is known. */
export function startProgress(command: string, counters: ProgressCounters, stream: NodeJS.WriteStream = process.stderr): () => void {
  const started = performance.now();
  const render = (): void => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(counters.records() / seconds) : 0;
    const total = counters.totalBytes;
    const percent = total ? `  ${Math.min(100, Math.floor((counters.bytes / total) * 100))}%` : '';
    stream.write(`\r\x1b[K${command}: ${counters.records().toLocaleString('en-US')} records  ${rate.toLocaleString('en-US')}/s${percent}`);
  };
  const timer = setInterval(render, INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    render();
    stream.write('\n');
  };
}

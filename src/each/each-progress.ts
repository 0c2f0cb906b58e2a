import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import type { EachCounters } from './each-handler.js';

/** 250 ms, as the other commands' progress line. */
const INTERVAL_MS = 250;
/** Counting lines of an input larger than this would delay the first job noticeably (~0.2 s). */
const MAX_COUNTED_BYTES = 256 * 1024 * 1024;

/**
 * `op each: 120 done  3 failed  8 running  ETA 0:42`. The ETA needs the number of jobs: it
 * is counted up front when every input is a regular file (newlines, read apart from the
 * stream the engine reads), else the line shows no ETA.
 */
export function startEachProgress(counters: EachCounters, inputs: string[], stream: NodeJS.WriteStream = process.stderr): () => void {
  const total = countJobs(inputs);
  const started = performance.now();
  const render = (): void => {
    const { done, failed, running } = counters;
    let eta = '';
    if (total !== undefined && done > 0) {
      const seconds = ((performance.now() - started) / 1000 / done) * Math.max(0, total - done);
      eta = `  ETA ${formatDuration(seconds)}`;
    }
    const of = total === undefined ? '' : `/${total.toLocaleString('en-US')}`;
    stream.write(`\r\x1b[Kop each: ${done.toLocaleString('en-US')}${of} done  ${failed.toLocaleString('en-US')} failed  ${running} running${eta}`);
  };
  const timer = setInterval(render, INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    render();
    stream.write('\n');
  };
}

export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Lines in the inputs, when they are all regular files of a sane size; positional reads leave stdin's offset alone. */
function countJobs(inputs: string[]): number | undefined {
  let lines = 0;
  for (const spec of inputs) {
    const fd = spec === '-' ? 0 : openSync(spec, 'r');
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_COUNTED_BYTES) return undefined;
      lines += countLines(fd, stat.size);
    } finally {
      if (fd !== 0) closeSync(fd);
    }
  }
  return lines;
}

function countLines(fd: number, size: number): number {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let lines = 0;
  let last = 10;
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, buf.length, at);
    if (n === 0) break;
    for (let k = buf.indexOf(10, 0); k >= 0 && k < n; k = buf.indexOf(10, k + 1)) lines++;
    last = buf[n - 1]!;
    at += n;
  }
  return last === 10 ? lines : lines + 1;
}

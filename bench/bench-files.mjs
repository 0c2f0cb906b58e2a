// What the benchmark scripts share: their generated inputs, a way to capture a command's output,
// and a process's peak RSS.
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The folder of gen-ndjson.mjs and raw-map.mjs. */
export const SHARED = process.env.OPKIT_SHARED_BENCH ?? join(root, '..', 'shared', 'bench');

/** bench/data/NAME (git-ignored), made once by `make(stream)`, which resolves when it is written. */
export async function ensureFile(name, make) {
  const dir = join(root, 'bench', 'data');
  const file = join(dir, name);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  await make(out);
  renameSync(partial, file);
  return file;
}

/** `path` in two, at the first line end from its middle byte on, beside it, made once. */
export function halvesOf(path) {
  const parts = [`${path}.half1`, `${path}.half2`];
  if (parts.every((part) => existsSync(part))) return parts;
  const text = readFileSync(path);
  const cut = text.indexOf(10, text.length >> 1) + 1;
  for (const [i, piece] of [text.subarray(0, cut), text.subarray(cut)].entries()) {
    const tmp = `${parts[i]}.${process.pid}.tmp`;
    writeFileSync(tmp, piece);
    renameSync(tmp, parts[i]);
  }
  return parts;
}

/** A shell command line that runs argv on each of `halves` at once, outputs to /dev/null. */
export function onHalvesAtOnce(argv, [first, second]) {
  return ['/bin/sh', '-c', 'h1=$1 h2=$2; shift 2; "$@" < "$h1" > /dev/null & "$@" < "$h2" > /dev/null & wait', 'sh', first, second, ...argv];
}

/** Redis's CPU seconds so far (user + sys, every thread), from the text of `INFO CPU`. */
export function redisCpuOfInfo(info) {
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** bench/data/shard-N.ndjson: N records from gen-ndjson.mjs, made once. */
export function ensureRecords(records) {
  return ensureFile(`shard-${records}.ndjson`, (out) => pipeChild([process.execPath, join(SHARED, 'gen-ndjson.mjs'), String(records)], out));
}

/** Runs argv with its stdout into `out`; resolves once `out` has it all. */
export function pipeChild(argv, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.pipe(out);
    child.on('error', reject);
    const finished = new Promise((done) => out.on('finish', done));
    child.on('close', (status) => (status === 0 ? finished.then(resolve) : reject(new Error(`${argv.join(' ')}: exit ${status}`))));
  });
}

/** argv's stdout, as a Buffer, with `file` as its stdin; rejects on a non-zero exit. */
export function capture(argv, file) {
  const stdin = openSync(file, 'r');
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'pipe', 'inherit'] });
  closeSync(stdin);
  const out = [];
  child.stdout.on('data', (chunk) => out.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${argv.join(' ')}: exit ${status}`))));
  });
}

/** Polls /proc/PID/status VmHWM every 20 ms; VmHWM only grows, so the last reading before exit stands. */
export function pollPeak(pid) {
  let peak = 0;
  const read = () => {
    const match = /VmHWM:\s+(\d+) kB/.exec(readStatus(pid));
    if (match) peak = Math.max(peak, Number(match[1]));
  };
  read();
  const timer = setInterval(read, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** /proc/PID/status, or '' once the process is gone. */
export function readStatus(pid) {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

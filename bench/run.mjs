#!/usr/bin/env node
// The benchmarks: op against a hand-written Node loop (and jq, Miller, ndjson-cli when
// installed), measured in the same run, reported as ratios. Every number printed comes
// from child processes run now; nothing is cached but the generated input data.
//
//   npm run bench                          everything, 1,000,000 records, median of 3
//   npm run bench -- --records 200000 --runs 1 --stall 2    a quick run
//   npm run bench -- --only map,filter --markdown           a subset, as a markdown table
//
// To add a case, add an object to CASES (see `compare`, `memory`, `stalled`, `startup`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { cpus, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { halvesOf, onHalvesAtOnce, pollPeak } from './bench-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.OPKIT_SHARED_BENCH ?? join(root, '..', 'shared', 'bench');
const DATA = join(root, 'bench', 'data');
const NODE = process.execPath;
const OP = join(root, 'bin', 'run.js');
const RAW_MAP = join(SHARED, 'raw-map.mjs');
const RAW_FILTER = join(root, 'bench', 'raw-filter.mjs');
const SCRATCH = mkdtempSync(join(tmpdir(), 'opkit-bench-'));
process.on('exit', () => rmSync(SCRATCH, { recursive: true, force: true }));

const USAGE = `usage: node bench/run.mjs [--records N] [--runs N] [--only NAME,…] [--stall S] [--startup-runs N] [--markdown]
  --records N       records in the main input (default 1000000); the rss case also uses N/4
  --runs N          timed runs per side, baseline and subject alternating; the median is shown (default 3)
  --only NAME,…     run only these cases or groups ({names})
  --stall S         seconds the stalled consumer sleeps before reading (default 10)
  --startup-runs N  runs per side of the start-up cases (default 20)
  --markdown        print the table as markdown, with a header naming the machine
Exit status 1 when a case misses its target, fails, or its output differs from the baseline's.
Environment: OPKIT_SHARED_BENCH, the folder of gen-ndjson.mjs and raw-map.mjs (default ../shared/bench).`;

// ------------------------------------------------------------------ what to run

const MAP_FN = 'r => (r.s2 = r.score * 2, r)';
const MAP_EXPR = '(r.s2 = r.score * 2, r)';
const FILTER_FN = 'r => r.score > 500';
const FILTER_EXPR = 'r.score > 500';
const FILTER_LOOP_FN = 'r => (r.score > 500 ? r : undefined)';

const rawMap = (fn) => ({ label: 'raw-map', argv: [NODE, RAW_MAP, fn] });
const rawFilter = (fn) => ({ label: 'raw-filter', argv: [NODE, RAW_FILTER, fn] });
const op = (...args) => ({ label: `op ${args[0]}`, argv: [NODE, OP, ...args] });
/** op with worker threads, labelled by its worker count (and chunk size when set). */
const opWorkers = (workers, chunkKiB, ...args) => ({
  label: `op ${args[0]} -w ${workers}${chunkKiB ? ` (${chunkKiB} KiB chunks)` : ''}`,
  argv: [NODE, OP, ...args, ...(workers ? ['-w', String(workers)] : [])],
  env: chunkKiB ? { OP_CHUNK_BYTES: String(chunkKiB * 1024) } : undefined,
});
/** op with --journal to a fresh file each run (an existing journal would make the run a resume). */
const opJournal = (...args) => {
  const journal = join(SCRATCH, `journal-${args[0]}.ndjson`);
  return { label: `op ${args[0]} --journal`, argv: [NODE, OP, ...args, '--journal', journal], fresh: [journal] };
};
/** ~50 µs of arithmetic per record: a CPU-heavy handler, run over a tenth of the records. */
const HEAVY = join(root, 'fixtures/handlers/cpu-heavy.mjs');
/** 1 ms of CPU per record, over 2,000 records: a slow model on a small input, the main case for workers. */
const BUSY_1MS = join(root, 'fixtures/handlers/busy-1ms.mjs');
const tenth = (ctx) => Math.max(1000, Math.floor(ctx.records / 10));
const tool = (label, file, ...args) => ({ label, argv: [file, ...args], requires: file });

/**
 * The cases, in the order they run. Each is { name, group?, run(ctx) → rows }. A row is
 * { name, baseline, baseS, subjectS, ratio, target, rss, ok, note }; `ok` is true, false
 * (target missed) or null (information only).
 */
const CASES = [
  compare({ name: 'map', baseline: rawMap(MAP_FN), subject: op('map', MAP_EXPR), target: 1.1, verify: 'bytes' }),
  compare({ name: 'filter', baseline: rawFilter(FILTER_FN), subject: op('filter', FILTER_EXPR), target: 1.15, verify: 'bytes' }),
  // The filter loop in raw-map's shape: parse, test, and stringify what is kept.
  compare({ name: 'filter-loop', group: 'filter', baseline: { label: 'raw-map as a filter', argv: [NODE, RAW_MAP, FILTER_LOOP_FN] }, subject: op('filter', FILTER_EXPR), target: 0.85, verify: 'lines' }),
  memory({ name: 'rss', subject: op('map', MAP_EXPR), limitMiB: 100 }),
  rangeScan({ name: 'range-scan', expr: MAP_EXPR, target: 0.02 }),
  stalled({ name: 'stall', subject: op('map', MAP_EXPR), baseline: rawMap(MAP_FN), limitMiB: 120 }),
  startup({ name: 'startup', baseline: { label: "node -e ''", argv: [NODE, '-e', ''] }, subject: { label: 'op --version', argv: [NODE, OP, '--version'] }, target: 2 }),
  startup({ name: 'startup-map', baseline: { label: "node -e ''", argv: [NODE, '-e', ''] }, subject: { label: 'op map r </dev/null', argv: [NODE, OP, 'map', 'r'] } }),
  // Worker threads (-w): against the single-thread limit, against themselves, and by chunk size.
  // What two cores give here at best: raw-map on each half of the input at once, no reading
  // shared, nothing merged. Each -w 2 ratio below is bounded by this one.
  halves({ name: 'floor-w2', group: 'workers', fn: MAP_FN }),
  compare({ name: 'map-w2', group: 'workers', baseline: rawMap(MAP_FN), subject: opWorkers(2, 0, 'map', MAP_EXPR), target: 0.65, verify: 'bytes' }),
  compare({ name: 'heavy-w2', group: 'workers', baseline: opWorkers(1, 0, 'map', HEAVY), subject: opWorkers(2, 0, 'map', HEAVY), target: 1 / 1.8, records: tenth }),
  compare({ name: 'small-w2', group: 'workers', baseline: opWorkers(1, 0, 'map', BUSY_1MS), subject: opWorkers(2, 0, 'map', BUSY_1MS), target: 1 / 1.8, records: () => 2000 }),
  compare({ name: 'w1-inline', group: 'workers', baseline: op('map', MAP_EXPR), subject: opWorkers(1, 0, 'map', MAP_EXPR), target: 1, verify: 'bytes' }),
  memory({ name: 'rss-w2', group: 'workers', subject: opWorkers(2, 0, 'map', MAP_EXPR), limitMiB: 200 }),
  ...[64, 112, 256, 1024].flatMap((kib) => [1, 2, 3].map((w) => compare({ name: `w${w}-${kib}k`, group: 'chunks', baseline: rawMap(MAP_FN), subject: opWorkers(w, kib, 'map', MAP_EXPR) }))),
  // --journal (default --fsync batch) against the same run without it.
  compare({ name: 'journal', group: 'journal', baseline: op('map', MAP_EXPR), subject: opJournal('map', MAP_EXPR), target: 1.15, verify: 'bytes' }),
  compare({ name: 'journal-w2', group: 'journal', baseline: opWorkers(2, 0, 'map', MAP_EXPR), subject: { ...opJournal('map', MAP_EXPR, '-w', '2'), label: 'op map -w 2 --journal' }, target: 1.15, verify: 'bytes' }),
  // gzip input: op's own decompression against zcat in a pipe in front of it.
  gzipInput({ name: 'gzip', expr: MAP_EXPR }),
  compare({ name: 'jq', group: 'peers', baseline: rawMap(MAP_FN), subject: tool('jq', 'jq', '-c', '.s2 = .score * 2'), verify: 'lines' }),
  compare({ name: 'mlr', group: 'peers', baseline: rawMap(MAP_FN), subject: tool('mlr', 'mlr', '--ijsonl', '--ojsonl', 'put', '$s2 = $score * 2'), verify: 'lines' }),
  compare({ name: 'ndjson-map', group: 'peers', baseline: rawMap(MAP_FN), subject: tool('ndjson-map', 'ndjson-map', 'd.s2 = d.score * 2, d'), verify: 'lines' }),
];

// ------------------------------------------------------------------ case kinds

/** Wall-clock of `subject` against `baseline` over the main input: median of --runs each. */
function compare({ name, group, baseline, subject, target, verify, records }) {
  return {
    name,
    group,
    async run(ctx) {
      const base = { name, baseline: baseline.label, target: target ? `≤ ${+target.toFixed(2)}` : '', ok: null, note: '' };
      const missing = [baseline, subject].find((program) => program.requires && !findExecutable(program.requires));
      if (missing) return [{ ...base, note: `${missing.requires} not installed` }];
      const note = verify ? await verifyOutput(ctx, baseline, subject, verify) : '';
      const input = await ctx.data(records ? records(ctx) : ctx.records);
      const { base: b, subject: s } = await alternate(ctx.runs, () => measure(baseline, { input }), () => measure(subject, { input }));
      const ratio = median(s.seconds) / median(b.seconds);
      return [{
        ...base,
        subject: subject.label,
        baseS: median(b.seconds),
        subjectS: median(s.seconds),
        ratio: ratio.toFixed(2),
        rss: Math.max(...s.peakKiB),
        ok: note.startsWith('OUTPUT') ? false : target ? ratio <= target : null,
        note,
      }];
    },
  };
}

/**
 * The machine's own two-core scaling: `raw-map.mjs` over the first and second half of the
 * main input at once (two processes, outputs to /dev/null), against `raw-map.mjs` over all
 * of it. An ideal `-w 2` does no better: the same work, split with no cost and never joined.
 */
function halves({ name, group, fn }) {
  return {
    name,
    group,
    async run(ctx) {
      const input = await ctx.data(ctx.records);
      const baseline = rawMap(fn);
      const subject = { label: 'raw-map on each half at once', argv: onHalvesAtOnce(baseline.argv, halvesOf(input)) };
      const { base: b, subject: s } = await alternate(ctx.runs, () => measure(baseline, { input }), () => measure(subject, { input: '/dev/null' }));
      const ratio = median(s.seconds) / median(b.seconds);
      return [{ name, baseline: baseline.label, subject: subject.label, baseS: median(b.seconds), subjectS: median(s.seconds), ratio: ratio.toFixed(2), target: '', rss: null, ok: null, note: 'the best a -w 2 ratio can be on this machine' }];
    },
  };
}

/**
 * `op map EXPR --in x.ndjson.gz` against `zcat x.ndjson.gz | op map EXPR` over the main
 * input, gzipped once into bench/data (gzip -6, zlib's default). Information only: zcat
 * runs on a core of its own, op decompresses on its main thread.
 */
function gzipInput({ name, expr }) {
  return {
    name,
    async run(ctx) {
      const base = { name, baseline: 'zcat | op map', subject: 'op map --in x.gz', target: '', ok: null };
      if (!findExecutable('zcat')) return [{ ...base, note: 'zcat not installed' }];
      const sample = await gzipped(await ctx.data(Math.min(10_000, ctx.records)));
      const gz = await gzipped(await ctx.data(ctx.records));
      const baseline = (file) => ({ label: base.baseline, argv: ['/bin/sh', '-c', 'zcat "$1" | "$2" "$3" map "$4"', 'sh', file, NODE, OP, expr] });
      const subject = (file) => ({ label: base.subject, argv: [NODE, OP, 'map', expr, '--in', file] });
      const [a, b] = [await measure(baseline(sample), { input: '/dev/null', capture: true }), await measure(subject(sample), { input: '/dev/null', capture: true })];
      const note = a.stdout.equals(b.stdout) ? 'output checked (same bytes)' : 'OUTPUT DIFFERS from zcat | op map (bytes)';
      const { base: z, subject: s } = await alternate(ctx.runs, () => measure(baseline(gz), { input: '/dev/null' }), () => measure(subject(gz), { input: '/dev/null' }));
      const ratio = median(s.seconds) / median(z.seconds);
      return [{ ...base, baseS: median(z.seconds), subjectS: median(s.seconds), ratio: ratio.toFixed(2), rss: Math.max(...s.peakKiB), ok: note.startsWith('OUTPUT') ? false : null, note: `${note}; ${mib(statSync(gz).size / 1024)} MiB gzipped` }];
    },
  };
}

/**
 * The cost of the check for numbers beyond the double range, as a share of `op map` over
 * the main input: bench/range-scan.mjs times the check alone over the same 64 KiB chunks op
 * reads (median of 5 passes), and `op map` runs in the same bench run.
 */
function rangeScan({ name, expr, target }) {
  return {
    name,
    group: 'map',
    async run(ctx) {
      const input = await ctx.data(ctx.records);
      const scan = { label: 'range check alone', argv: [NODE, join(root, 'bench', 'range-scan.mjs'), input] };
      const maps = [];
      const scans = [];
      let flagged = 0;
      for (let run = 0; run < ctx.runs; run++) {
        maps.push((await measure(op('map', expr), { input })).seconds);
        const probe = JSON.parse((await measure(scan, { input: '/dev/null', capture: true })).stdout.toString());
        scans.push(probe.scanMs / 1000);
        flagged = probe.flagged;
      }
      const ratio = median(scans) / median(maps);
      return [{ name, baseline: 'op map', subject: 'range check alone', baseS: median(maps), subjectS: median(scans), ratio: ratio.toFixed(3), target: `≤ ${target}`, rss: null, ok: ratio <= target, note: `share of op map's time; ${flagged} blocks flagged` }];
    },
  };
}

/** `path`.gz beside it, made once (written to a temporary name, then renamed). */
async function gzipped(path) {
  const gz = `${path}.gz`;
  if (existsSync(gz)) return gz;
  const tmp = `${gz}.${process.pid}.tmp`;
  await pipeline(createReadStream(path), createGzip(), createWriteStream(tmp));
  renameSync(tmp, gz);
  return gz;
}

/** Peak RSS of `subject` over the main input and over a quarter of it: memory must not grow with input. */
function memory({ name, group, subject, limitMiB }) {
  return {
    name,
    group,
    async run(ctx) {
      const quarter = Math.max(1, Math.floor(ctx.records / 4));
      const small = await ctx.data(quarter);
      const large = await ctx.data(ctx.records);
      const { base: q, subject: l } = await alternate(ctx.runs, () => measure(subject, { input: small }), () => measure(subject, { input: large }));
      const growth = Math.max(...l.peakKiB) / Math.max(...q.peakKiB);
      return [
        { name: `${name} ${count(quarter)}`, baseline: '', subject: subject.label, baseS: null, subjectS: median(q.seconds), ratio: '', target: `≤ ${limitMiB} MiB`, rss: Math.max(...q.peakKiB), ok: Math.max(...q.peakKiB) <= limitMiB * 1024, note: '' },
        { name: `${name} ${count(ctx.records)}`, baseline: `${subject.label} ${count(quarter)}`, subject: subject.label, baseS: median(q.seconds), subjectS: median(l.seconds), ratio: `${growth.toFixed(2)} (rss)`, target: `≤ ${limitMiB} MiB`, rss: Math.max(...l.peakKiB), ok: Math.max(...l.peakKiB) <= limitMiB * 1024, note: `peak RSS ${count(ctx.records)} / ${count(quarter)} records` },
      ];
    },
  };
}

/**
 * `subject < data | (sleep S; wc -l)`: peak RSS while the consumer does not read, and how
 * many input bytes the process had read by the end of the stall (its read-ahead), beside
 * the same for `baseline`. Bounded queues mean both stay small, whatever the input size.
 */
function stalled({ name, subject, baseline, limitMiB }) {
  return {
    name,
    async run(ctx) {
      const input = await ctx.data(ctx.records);
      const { base: b, subject: s } = await alternate(ctx.runs, () => measure(baseline, { input, stall: ctx.stall }), () => measure(subject, { input, stall: ctx.stall }));
      const complete = [...b.consumed, ...s.consumed].every((lines) => lines === ctx.records);
      const peak = Math.max(...s.peakKiB);
      const readAhead = (runs) => (runs.readAhead.every((n) => n !== null) ? `${mib(Math.max(...runs.readAhead) / 1024)} MiB` : '?');
      return [{
        name: `${name} ${ctx.stall}s`,
        baseline: `${baseline.label} stalled`,
        subject: `${subject.label} stalled`,
        baseS: median(b.seconds),
        subjectS: median(s.seconds),
        ratio: `${(peak / Math.max(...b.peakKiB)).toFixed(2)} (rss)`,
        target: `≤ ${limitMiB} MiB`,
        rss: peak,
        ok: complete && peak <= limitMiB * 1024,
        note: `read by the stall's end (rchar, code included) of ${mib(statSync(input).size / 1024)} MiB input: ${subject.label} ${readAhead(s)}, ${baseline.label} ${readAhead(b)}; ${baseline.label} peak RSS ${mib(Math.max(...b.peakKiB))} MiB${complete ? '' : '; OUTPUT INCOMPLETE'}`,
      }];
    },
  };
}

/** Start-up: median of --startup-runs runs of each, alternating, with no input. */
function startup({ name, baseline, subject, target }) {
  return {
    name,
    group: 'startup',
    async run(ctx) {
      const { base: b, subject: s } = await alternate(ctx.startupRuns, () => measure(baseline, { input: '/dev/null' }), () => measure(subject, { input: '/dev/null' }));
      const ratio = median(s.seconds) / median(b.seconds);
      return [{ name, baseline: baseline.label, subject: subject.label, baseS: median(b.seconds), subjectS: median(s.seconds), ratio: ratio.toFixed(2), target: target ? `≤ ${target}` : '', rss: Math.max(...s.peakKiB), ok: target ? ratio <= target : null, note: `${ctx.startupRuns} runs each` }];
    },
  };
}

// ------------------------------------------------------------------ measuring

/** /usr/bin/time -f %M gives the peak RSS in KiB; without it, /proc/<pid>/status VmHWM is polled. */
const TIME = existsSync('/usr/bin/time') && (await timeWorks()) ? '/usr/bin/time' : null;

async function timeWorks() {
  const out = join(SCRATCH, 'probe');
  const status = await new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, 'true'], { stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('close', resolve);
  });
  return status === 0 && /^\d+\s*$/.test(readFileSync(out, 'utf8'));
}

let measured = 0;

/**
 * Runs one program: stdin from `input`, stdout to /dev/null (or `capture`d, or into
 * `sh -c 'sleep S; wc -l'` with `stall`). Returns wall-clock seconds, peak RSS in KiB and,
 * for a stall, the consumer's line count and the bytes the program had read by then.
 */
async function measure(program, { input, capture = false, stall = 0 }) {
  for (const path of program.fresh ?? []) rmSync(path, { force: true });
  const stdin = openSync(input, 'r');
  const devnull = openSync('/dev/null', 'w');
  const timeOut = join(SCRATCH, `time-${++measured}`);
  const argv = TIME ? [TIME, '-f', '%M', '-o', timeOut, ...program.argv] : program.argv;
  const stdout = capture || stall ? 'pipe' : devnull;
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, stdout, 'pipe'], env: { ...process.env, FORCE_COLOR: '0', ...program.env } });
  closeSync(stdin);
  closeSync(devnull);
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  const out = [];
  let consumer;
  let consumed = Promise.resolve(null);
  if (stall) {
    // The consumer gets op's stdout pipe itself; this process never reads from it.
    consumer = spawn('/bin/sh', ['-c', `sleep ${stall}; wc -l`], { stdio: [child.stdout, 'pipe', 'inherit'] });
    consumed = collect(consumer.stdout).then((text) => Number(text.trim()));
    child.stdout.destroy();
  } else if (capture) {
    child.stdout.on('data', (chunk) => out.push(chunk));
  }
  const hwm = TIME ? null : pollPeak(child.pid);
  // What the program had read when the stall ends: it cannot have needed more than fits in its queues.
  const readAhead = stall ? sleep(stall * 1000 - 300).then(() => readBytes(TIME ? findChild(child.pid) : child.pid)) : Promise.resolve(null);
  const [status, signal] = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve([code, sig]));
  });
  const seconds = (performance.now() - started) / 1000;
  const lines = await consumed;
  const peakKiB = TIME ? Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop()) : hwm.stop();
  if (status !== 0) {
    const why = Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-5).join('\n');
    throw new Error(`${program.argv.slice(1).join(' ')} exited ${status ?? signal}:\n${why}`);
  }
  return { seconds, peakKiB, stdout: Buffer.concat(out), consumed: lines, readAhead: await readAhead };
}

/** Alternates baseline and subject, ABBA, so drift and page-cache warmth hit both alike. */
async function alternate(runs, runBase, runSubject) {
  const base = { seconds: [], peakKiB: [], consumed: [], readAhead: [] };
  const subject = { seconds: [], peakKiB: [], consumed: [], readAhead: [] };
  const add = (into, result) => {
    into.seconds.push(result.seconds);
    into.peakKiB.push(result.peakKiB);
    into.consumed.push(result.consumed);
    into.readAhead.push(result.readAhead);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      add(base, await runBase());
      add(subject, await runSubject());
    } else {
      add(subject, await runSubject());
      add(base, await runBase());
    }
  }
  return { base, subject };
}

/** /proc/<pid>/io rchar: bytes read by read(2) and pread(2), including the modules loaded at start. */
function readBytes(pid) {
  try {
    return Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** The program /usr/bin/time started. */
function findChild(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || pid;
  } catch {
    return pid;
  }
}

/** Both sides on the first 10,000 records: the same bytes (op against raw-*), or the same line count (peers). */
async function verifyOutput(ctx, baseline, subject, how) {
  const sample = await ctx.data(Math.min(10_000, ctx.records));
  const [a, b] = [await measure(baseline, { input: sample, capture: true }), await measure(subject, { input: sample, capture: true })];
  const same = how === 'bytes' ? a.stdout.equals(b.stdout) : countLines(a.stdout) === countLines(b.stdout);
  return same ? `output checked (${how === 'bytes' ? 'same bytes' : 'same line count'})` : `OUTPUT DIFFERS from ${baseline.label} (${how})`;
}

// ------------------------------------------------------------------ data

/** bench/data/records-N-<generator hash>.ndjson, generated once; written to a temporary name, then renamed. */
function dataFiles() {
  const generator = join(SHARED, 'gen-ndjson.mjs');
  if (!existsSync(generator)) throw new Error(`${generator} not found; set OPKIT_SHARED_BENCH to the folder of gen-ndjson.mjs`);
  const hash = createHash('sha256').update(readFileSync(generator)).digest('hex').slice(0, 8);
  const made = new Map();
  return (records) => {
    const path = join(DATA, `records-${records}-${hash}.ndjson`);
    if (!made.has(path)) made.set(path, existsSync(path) ? warm(path) : generate(generator, records, path));
    return made.get(path);
  };
}

async function generate(generator, records, path) {
  mkdirSync(DATA, { recursive: true });
  log(`generating ${count(records)} records into ${path.slice(root.length + 1)}`);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const status = await new Promise((resolve) => spawn(NODE, [generator, String(records)], { stdio: ['ignore', fd, 'inherit'] }).on('close', resolve));
  closeSync(fd);
  if (status !== 0) throw new Error(`gen-ndjson.mjs exited ${status}`);
  renameSync(tmp, path);
  return path;
}

/** Reads a cached file once so that the first timed run does not pay for the disk. */
async function warm(path) {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) void chunk;
  return path;
}

// ------------------------------------------------------------------ output

const COLUMNS = [
  ['case', (row) => row.name],
  ['baseline', (row) => row.baseline],
  ['subject', (row) => row.subject ?? ''],
  ['baseline s', (row) => seconds(row.baseS)],
  ['subject s', (row) => seconds(row.subjectS)],
  ['ratio', (row) => row.ratio ?? ''],
  ['target', (row) => row.target ?? ''],
  ['peak RSS', (row) => (row.rss ? `${mib(row.rss)} MiB` : '')],
  ['result', (row) => (row.ok === true ? 'ok' : row.ok === false ? 'MISSED' : '')],
  ['note', (row) => row.note ?? ''],
];

function printTable(rows, markdown, header) {
  const cells = rows.map((row) => COLUMNS.map(([, get]) => String(get(row))));
  if (markdown) {
    console.log(header.map((line) => `${line}  `).join('\n') + '\n');
    const escapeCell = (text) => text.replace(/\|/g, '\\|');
    console.log(`| ${COLUMNS.map(([title]) => title).join(' | ')} |`);
    console.log(`|${COLUMNS.map(() => '---').join('|')}|`);
    for (const row of cells) console.log(`| ${row.map(escapeCell).join(' | ')} |`);
    return;
  }
  console.log(header.join('\n') + '\n');
  const widths = COLUMNS.map(([title], n) => Math.max(title.length, ...cells.map((row) => row[n].length)));
  const line = (values) => values.map((value, n) => value.padEnd(widths[n])).join('  ').trimEnd();
  console.log(line(COLUMNS.map(([title]) => title)));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of cells) console.log(line(row));
}

function seconds(value) {
  if (value === null || value === undefined) return '';
  return value < 1 ? value.toFixed(3) : value.toFixed(2);
}

function mib(kib) {
  return (kib / 1024).toFixed(1);
}

function count(n) {
  return n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function countLines(buffer) {
  let n = 0;
  for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) n++;
  return n;
}

function collect(stream) {
  return new Promise((resolve) => {
    const parts = [];
    stream.on('data', (chunk) => parts.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

function findExecutable(name) {
  const dirs = [join(root, 'node_modules', '.bin'), ...(process.env.PATH ?? '').split(delimiter)];
  return dirs.map((dir) => join(dir, name)).find((path) => {
    try {
      return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

// ------------------------------------------------------------------ main

async function main() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
      stall: { type: 'string', default: '10' },
      'startup-runs': { type: 'string', default: '20' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const names = [...new Set(CASES.flatMap((c) => [c.name, c.group].filter(Boolean)))].join(', ');
  if (values.help) {
    console.log(USAGE.replace('{names}', names));
    return;
  }
  const positive = (flag, text) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (flag !== 'stall' && !Number.isInteger(n))) {
      console.error(`bench: --${flag} must be a positive ${flag === 'stall' ? 'number' : 'integer'}, got ${text}\n${USAGE.replace('{names}', names)}`);
      process.exit(2);
    }
    return n;
  };
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !CASES.some((c) => c.name === name || c.group === name));
  if (unknown?.length) {
    console.error(`bench: no case named ${unknown.join(', ')}; cases: ${names}`);
    process.exit(2);
  }
  if (!existsSync(join(root, 'dist', 'commands')) || !existsSync(join(root, 'oclif.manifest.json'))) {
    console.error('bench: op is not built; run `npm run build` first');
    process.exit(2);
  }
  const ctx = {
    records: positive('records', values.records),
    runs: positive('runs', values.runs),
    stall: positive('stall', values.stall),
    startupRuns: positive('startup-runs', values['startup-runs']),
    data: dataFiles(),
  };
  const selected = CASES.filter((c) => !only || only.includes(c.name) || only.includes(c.group));
  const rows = [];
  for (const c of selected) {
    log(`${c.name}…`);
    try {
      rows.push(...(await c.run(ctx)));
    } catch (error) {
      rows.push({ name: c.name, baseline: '', ok: false, note: `FAILED: ${error.message.split('\n').join(' / ')}` });
    }
  }
  const cpu = cpus();
  const header = [
    `opkit bench, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}, ${process.platform}`,
    `input: ${ctx.records.toLocaleString('en-US')} records from gen-ndjson.mjs, stdout to /dev/null; times are medians of ${ctx.runs} run(s) per side, alternating; peak RSS is the largest of the runs, from ${TIME ? '/usr/bin/time -f %M' : '/proc/<pid>/status VmHWM'}`,
  ];
  printTable(rows, values.markdown, header);
  if (rows.some((row) => row.ok === false)) process.exitCode = 1;
}

await main();

#!/usr/bin/env node
// Handlers in other languages: `op map -w 2 -- PROGRAM` (persistent child processes) against
// the same program run alone and against GNU parallel, measured in the same run, as ratios.
//
//   python     `op map -w 2 -- python3 pass.py` against `python3 pass.py` alone: ratio ≤ 0.625
//              (1.6x faster); output checked byte for byte on a sample
//   parallel   the same op run against `parallel --pipe -k -j2 python3 pass.py`: ratio < 1
//   jq         `op map -w 2 -- jq -c --unbuffered '.s2 = .score*2'` against
//              `jq -c '.s2 = .score*2'` alone: ratio ≤ 0.625; whole outputs compared by sha256
//   python-floor, jq-floor
//              the program alone on each half of the input at once, against it alone on the
//              whole: the best a -w 2 ratio can be on this machine (information only)
//   helper     python/opkit.py's run under --protocol json against the lines pass-through,
//              both -w 2: ratio ≤ 1.3
//   rss        peak RSS of the op process alone (not its children) in the python run: ≤ 150 MiB
//   stuck      a child that never reads: op's RSS and what it has read after --stuck S seconds,
//              the input still coming; then SIGTERM, and op and its children must be gone
//
//   node bench/exec.mjs                          1,000,000 records, median of 3
//   node bench/exec.mjs --records 200000 --runs 1 --only python,jq
//
// Beside the wall-clock, each row notes the CPU seconds of each side's whole process tree
// (/usr/bin/time %U + %S, median): on a loaded machine the wall-clock ratio says more about
// the neighbours than about op; the CPU seconds say what op's protocol costs.
// Input: gen-ndjson.mjs records, made once into bench/data/ (git-ignored).
// Environment: OPKIT_SHARED_BENCH, the folder of gen-ndjson.mjs (default ../shared/bench).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SHARED, ensureFile, halvesOf, onHalvesAtOnce, pipeChild, pollPeak, readStatus } from './bench-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const OP = join(root, 'bin', 'run.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const PASS = join(root, 'fixtures/python/pass.py');
const PASS_JSON = join(root, 'fixtures/python/pass-json.py');
const JQ_PROGRAM = '.s2 = .score*2';
/** Peak RSS allowed to the op process (children not counted) in the python pass-through, and behind a stuck child. */
const RSS_LIMIT_MIB = 150;

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    stuck: { type: 'string', default: '5' },
  },
});
const RECORDS = Number(values.records);
const RUNS = Number(values.runs);
const STUCK_S = Number(values.stuck);
const ONLY = values.only?.split(',');
const wanted = (name) => !ONLY || ONLY.includes(name);

const alone = { label: 'python3 pass.py', argv: ['python3', PASS] };
const opPython = { label: 'op map -w 2 -- python3 pass.py', argv: [NODE, OP, 'map', '-w', '2', '--', 'python3', PASS] };
const parallel = { label: 'parallel --pipe -k -j2 python3 pass.py', argv: ['/usr/bin/parallel', '--pipe', '-k', '-j2', 'python3', PASS], requires: '/usr/bin/parallel' };
const jqAlone = { label: `jq -c '${JQ_PROGRAM}'`, argv: ['jq', '-c', JQ_PROGRAM], requires: 'jq' };
const opJq = { label: `op map -w 2 -- jq -c --unbuffered '${JQ_PROGRAM}'`, argv: [NODE, OP, 'map', '-w', '2', '--', 'jq', '-c', '--unbuffered', JQ_PROGRAM], requires: 'jq' };
const opHelper = { label: 'op map -w 2 --protocol json -- python3 pass-json.py', argv: [NODE, OP, 'map', '-w', '2', '--protocol', 'json', '--', 'python3', PASS_JSON] };

const input = await ensureFile(`gen-${RECORDS}.ndjson`, (out) => pipeChild([NODE, join(SHARED, 'gen-ndjson.mjs'), String(RECORDS)], out));
const sample = await ensureFile(`gen-${Math.min(10_000, RECORDS)}.ndjson`, (out) => pipeChild([NODE, join(SHARED, 'gen-ndjson.mjs'), String(Math.min(10_000, RECORDS))], out));
const rows = [];
const load = [];

if (wanted('python') || wanted('rss')) await compare('python', alone, opPython, 0.625, 'bytes');
if (wanted('python-floor')) await floor('python-floor', alone);
if (wanted('parallel')) await compare('parallel', parallel, opPython, 0.9999, 'bytes');
if (wanted('jq')) await compare('jq', jqAlone, opJq, 0.625, 'sha256');
if (wanted('jq-floor') && findExecutable('jq')) await floor('jq-floor', jqAlone);
if (wanted('helper')) await compare('helper', opPython, opHelper, 1.3, 'values');
if (wanted('stuck')) await stuck();

console.log('');
console.log(`${RECORDS.toLocaleString('en')} records of gen-ndjson.mjs (${mib(statSync(input).size)} MiB), stdout to /dev/null; medians of ${RUNS} run(s) per side, alternating; ${cpus().length} cores, Node ${process.version}; load average at each case: ${load.join(', ')}`);
console.log('');
console.log('| case | baseline | subject | baseline s | subject s | ratio | target | op peak RSS | result | note |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${[r.case, r.baseline, r.subject, r.baseS, r.subjectS, r.ratio, r.target, r.rss, r.result, r.note].map((v) => String(v ?? '').replace(/\|/g, '\\|')).join(' | ')} |`);
if (rows.some((r) => r.result.startsWith('MISSED') || r.result.startsWith('FAILED'))) process.exitCode = 1;

/** Wall-clock of `subject` against `baseline` over the input, median of RUNS each, ABBA; `verify` first. */
async function compare(name, baseline, subject, target, verify) {
  load.push(`${name} ${loadavg()[0].toFixed(2)}`);
  const missing = [baseline, subject].find((p) => p.requires && !findExecutable(p.requires));
  if (missing) {
    rows.push({ case: name, baseline: baseline.label, subject: subject.label, target: `≤ ${target}`, result: '', note: `${missing.requires} not installed` });
    return;
  }
  try {
    const note = await check(baseline, subject, verify);
    const a = [];
    const b = [];
    for (let k = 0; k < RUNS; k++) {
      if (k % 2 === 0) {
        a.push(await measure(baseline, input));
        b.push(await measure(subject, input));
      } else {
        b.push(await measure(subject, input));
        a.push(await measure(baseline, input));
      }
    }
    const base = median(a.map((r) => r.seconds));
    const subj = median(b.map((r) => r.seconds));
    const ratio = subj / base;
    const ok = !note.startsWith('OUTPUT') && (target === 0.9999 ? ratio < 1 : ratio <= target);
    const opRss = Math.max(...b.map((r) => r.opKiB));
    if (name !== 'rss' && (wanted(name) || !ONLY)) {
      const cpu = TIME ? `; CPU s (user+sys, all processes) ${median(a.map((r) => r.cpu)).toFixed(1)} / ${median(b.map((r) => r.cpu)).toFixed(1)}` : '';
      rows.push({ case: name, baseline: baseline.label, subject: subject.label, baseS: base.toFixed(2), subjectS: subj.toFixed(2), ratio: ratio.toFixed(3), target: target === 0.9999 ? '< 1' : `≤ ${target}`, rss: opRss ? `${mib(opRss * 1024)} MiB` : '', result: ok ? 'ok' : 'MISSED', note: note + cpu });
    }
    if (name === 'python' && wanted('rss')) {
      const okRss = opRss > 0 && opRss <= RSS_LIMIT_MIB * 1024;
      rows.push({ case: 'rss', baseline: '', subject: subject.label, subjectS: subj.toFixed(2), target: `≤ ${RSS_LIMIT_MIB} MiB`, rss: `${mib(opRss * 1024)} MiB`, result: okRss ? 'ok' : 'MISSED', note: `op process alone (VmHWM); with its children, /usr/bin/time says ${mib(Math.max(...b.map((r) => r.treeKiB)) * 1024)} MiB` });
    }
  } catch (error) {
    rows.push({ case: name, baseline: baseline.label, subject: subject.label, result: 'FAILED', note: error.message.split('\n').slice(0, 3).join(' / ') });
  }
}

/**
 * The best any `-w 2` ratio can be here: the program run alone on each half of the input at
 * once (two processes, nothing between them and the files), against it alone on the whole,
 * in the same environment. Information only.
 */
async function floor(name, program) {
  load.push(`${name} ${loadavg()[0].toFixed(2)}`);
  const both = { label: `${program.label} on each half at once`, argv: onHalvesAtOnce(program.argv, halvesOf(input)) };
  const a = [];
  const b = [];
  for (let k = 0; k < RUNS; k++) {
    a.push(await measure(program, input));
    b.push(await measure(both, '/dev/null'));
  }
  const base = median(a.map((r) => r.seconds));
  const subj = median(b.map((r) => r.seconds));
  const cpu = TIME ? `CPU s ${median(a.map((r) => r.cpu)).toFixed(1)} / ${median(b.map((r) => r.cpu)).toFixed(1)}` : '';
  rows.push({ case: name, baseline: program.label, subject: both.label, baseS: base.toFixed(2), subjectS: subj.toFixed(2), ratio: (subj / base).toFixed(3), target: '', rss: '', result: '', note: `the best a -w 2 ratio can be on this machine; ${cpu}` });
}

/**
 * The outputs agree: `bytes` on the 10,000-record sample, `sha256` over the whole input,
 * `values` (each line parsed and compared, the two sides serialise differently) on the sample.
 */
async function check(baseline, subject, how) {
  const file = how === 'sha256' ? input : sample;
  const [a, b] = [await run(baseline.argv, file, 'capture'), await run(subject.argv, file, 'capture')];
  if (how === 'sha256') {
    const [x, y] = [a, b].map((r) => createHash('sha256').update(r.stdout).digest('hex'));
    return x === y ? `output checked (same sha256 over all ${count(RECORDS)} records: ${x.slice(0, 12)})` : 'OUTPUT DIFFERS (sha256)';
  }
  if (how === 'bytes') return a.stdout.equals(b.stdout) && a.stdout.length > 0 ? 'output checked (same bytes, 10k sample)' : 'OUTPUT DIFFERS (bytes)';
  const lines = (buffer) => buffer.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.stringify(JSON.parse(line)));
  const [x, y] = [lines(a.stdout), lines(b.stdout)];
  return x.length > 0 && x.length === y.length && x.every((line, k) => line === y[k]) ? 'output checked (same values, 10k sample)' : 'OUTPUT DIFFERS (values)';
}

/**
 * A child that never reads (python sleeping): op gets the whole input on stdin, and after
 * STUCK_S seconds its RSS and the bytes it has read (rchar) are taken; then SIGTERM. op must
 * have read a bounded amount, stay under the RSS limit, and leave no child behind.
 */
async function stuck() {
  load.push(`stuck ${loadavg()[0].toFixed(2)}`);
  const label = 'op map -w 2 -- python3 -c "sleep forever"';
  const argv = [NODE, OP, 'map', '-w', '2', '--', 'python3', '-c', 'import time\nwhile True: time.sleep(3600)'];
  const stdin = openSync(input, 'r');
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'ignore', 'pipe'] });
  closeSync(stdin);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  const peak = pollPeak(child.pid);
  await sleep(STUCK_S * 1000);
  const kids = descendants(child.pid);
  const status = readStatus(child.pid);
  const read = Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/io`, 'utf8'))[1]);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const how = await exited;
  clearTimeout(killer);
  const peakKiB = peak.stop();
  const stopS = (performance.now() - started) / 1000 - STUCK_S;
  await sleep(200);
  const left = kids.filter((pid) => existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(readStatus(pid)));
  const size = statSync(input).size;
  const ok = kids.length >= 2 && left.length === 0 && peakKiB <= RSS_LIMIT_MIB * 1024 && read < size / 4;
  rows.push({
    case: `stuck ${STUCK_S}s`,
    baseline: '',
    subject: label,
    subjectS: stopS.toFixed(2),
    ratio: `${(read / size).toFixed(3)} (read / input)`,
    target: `≤ ${RSS_LIMIT_MIB} MiB, read bounded`,
    rss: `${mib(peakKiB * 1024)} MiB`,
    result: ok ? 'ok' : 'MISSED',
    note: `after ${STUCK_S}s op had read ${mib(read)} MiB (rchar, code included) of ${mib(size)} MiB, RSS ${mib(rssKiB * 1024)} MiB; SIGTERM: exit ${how} in ${stopS.toFixed(2)}s (subject s), ${kids.length} descendants, ${left.length} left alive${left.length ? ` (${left.join(' ')})` : ''}${stderr.trim() ? `; stderr: ${stderr.trim().split('\n').pop()}` : ''}`,
  });
  for (const pid of left) process.kill(pid, 'SIGKILL');
}

/** One timed run, stdout to /dev/null: seconds, the op process's own peak (VmHWM polled) and the tree's (/usr/bin/time). */
async function measure(program, file) {
  const started = performance.now();
  const result = await run(program.argv, file, 'null');
  return { seconds: (performance.now() - started) / 1000, opKiB: result.opKiB, treeKiB: result.treeKiB, cpu: result.cpu };
}

/**
 * argv with `file` as stdin, under /usr/bin/time -f %M when there is one; `capture` keeps
 * stdout. The first program under time is the one whose VmHWM is polled: op itself, not its children.
 */
function run(argv, file, output) {
  const stdin = openSync(file, 'r');
  const devnull = openSync('/dev/null', 'w');
  const wrapped = TIME ? [TIME, '-f', '%M %U %S', ...argv] : argv;
  const child = spawn(wrapped[0], wrapped.slice(1), { stdio: [stdin, output === 'capture' ? 'pipe' : devnull, 'pipe'] });
  closeSync(stdin);
  closeSync(devnull);
  const out = [];
  child.stdout?.on('data', (chunk) => out.push(chunk));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let peak;
  const watch = setInterval(() => {
    const pid = TIME ? firstChild(child.pid) : child.pid;
    if (peak === undefined && (pid !== child.pid || !TIME)) peak = pollPeak(pid);
  }, 5);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(watch);
      const opKiB = peak?.stop() ?? 0;
      const lines = stderr.trim().split('\n');
      const [treeKiB, user, system] = TIME ? lines.pop().split(' ').map(Number) : [0, 0, 0];
      if (status !== 0) reject(new Error(`${argv.join(' ')}: exit ${status}: ${lines.slice(-3).join(' / ')}`));
      else resolve({ stdout: Buffer.concat(out), opKiB, treeKiB, cpu: user + system });
    });
  });
}

/** The program /usr/bin/time started (its pid until it has one). */
function firstChild(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || pid;
  } catch {
    return pid;
  }
}

/** Every process below pid, from /proc/PID/task/*\/children. */
function descendants(pid) {
  const all = [];
  const walk = (p) => {
    let text = '';
    try {
      text = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      return;
    }
    for (const child of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
      all.push(child);
      walk(child);
    }
  };
  walk(pid);
  return all;
}

function findExecutable(name) {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined;
  return (process.env.PATH ?? '').split(':').map((dir) => join(dir, name)).find((path) => existsSync(path));
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function count(n) {
  return n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

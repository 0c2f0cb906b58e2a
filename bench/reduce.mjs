#!/usr/bin/env node
// op reduce against Miller in the same run, on the same input, and op reduce's memory bound.
//
//   1. `op reduce --key user --agg sum:score,count` against
//      `mlr --ijsonl --ojsonl stats1 -a sum,count -f score -g user` over 1,000,000 records of
//      gen-ndjson.mjs (10,614 distinct users). Outputs are compared (sorted, sums to 1e-9)
//      before timing. The goal: faster than Miller.
//   2. 5,000,000 distinct keys under `--max-memory 200MB`: the result is checked (one group
//      per key, counts and sums right, keys in first-appearance order) and peak RSS must be
//      at most 300 MiB.
//
//   node bench/reduce.mjs                       median of 3 runs each
//   node bench/reduce.mjs --records 200000 --keys 1000000 --runs 1
//
// Environment: OPKIT_SHARED_BENCH, the folder of gen-ndjson.mjs (default ../shared/bench).
// Inputs are generated once into bench/data/ (git-ignored). Peak RSS comes from
// /usr/bin/time -f %M; without it the RSS column is empty.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SHARED, capture as captureBytes, ensureFile, pipeChild } from './bench-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const OP = join(root, 'bin', 'run.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const { values } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, keys: { type: 'string', default: '5000000' }, runs: { type: 'string', default: '3' }, only: { type: 'string' } },
});
const RECORDS = Number(values.records);
const KEYS = Number(values.keys);
const RUNS = Number(values.runs);
/** The memory requirement: 5,000,000 keys under --max-memory 200MB in at most 300 MiB of peak RSS. */
const RSS_TARGET_MIB = 300;

const rows = [];
let failed = false;
if (!values.only || values.only === 'miller') await millerCase();
if (!values.only || values.only === 'workers') await workersCase();
if (!values.only || values.only === 'keys') await keysCase();
console.log('');
console.log('| case | subject | seconds | ratio | peak RSS | target | result |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.case} | ${row.subject} | ${row.seconds.toFixed(2)} | ${row.ratio ?? ''} | ${row.rss === undefined ? '' : `${row.rss.toFixed(1)} MiB`} | ${row.target ?? ''} | ${row.result ?? ''} |`);
process.exitCode = failed ? 1 : 0;

async function millerCase() {
  const input = await ensureFile(`gen-${RECORDS}.ndjson`, (out) => pipeChild([NODE, join(SHARED, 'gen-ndjson.mjs'), String(RECORDS)], out));
  const ours = [NODE, OP, 'reduce', '--key', 'user', '--agg', 'sum:score,count'];
  const miller = ['mlr', '--ijsonl', '--ojsonl', 'stats1', '-a', 'sum,count', '-f', 'score', '-g', 'user'];
  let haveMiller = true;
  try {
    await run(['mlr', '--version'], '/dev/null', 'pipe');
  } catch {
    haveMiller = false;
  }
  if (haveMiller) await compareWithMiller(ours, miller, input);
  const opRuns = [];
  const mlrRuns = [];
  // Alternating runs: a noisy neighbour slows both sides alike.
  for (let k = 0; k < RUNS; k++) {
    opRuns.push(await measure(ours, input));
    if (haveMiller) mlrRuns.push(await measure(miller, input));
  }
  const op = summarise(opRuns);
  const label = `${RECORDS.toLocaleString('en')} records`;
  if (!haveMiller) {
    rows.push({ case: `sum+count by user, ${label}`, subject: 'op reduce', ...op, result: 'Miller not installed' });
    return;
  }
  const mlr = summarise(mlrRuns);
  rows.push({ case: `sum+count by user, ${label}`, subject: 'mlr stats1 (baseline)', ...mlr, ratio: '1.00' });
  const ratio = op.seconds / mlr.seconds;
  rows.push({ case: `sum+count by user, ${label}`, subject: 'op reduce', ...op, ratio: ratio.toFixed(2), target: '< 1', result: ratio < 1 ? `ok (${(1 / ratio).toFixed(1)}x faster)` : 'MISSED' });
  failed ||= ratio >= 1;
}

/** A trivial count over 1,000,000 records: -w 2 against inline; the goal is 1.5x faster (ratio ≤ 0.67). */
async function workersCase() {
  const input = await ensureFile(`gen-${RECORDS}.ndjson`, (out) => pipeChild([NODE, join(SHARED, 'gen-ndjson.mjs'), String(RECORDS)], out));
  const inline = [NODE, OP, 'reduce', '--key', 'user', '--agg', 'count'];
  const pooled = [...inline, '-w', '2'];
  const sorted = (text) => text.split('\n').filter(Boolean).sort().join('\n');
  if (sorted(await capture(inline, input)) !== sorted(await capture(pooled, input))) throw new Error('op reduce -w 2 and inline differ');
  const a = [];
  const b = [];
  for (let k = 0; k < RUNS; k++) {
    a.push(await measure(inline, input));
    b.push(await measure(pooled, input));
  }
  const one = summarise(a);
  const two = summarise(b);
  const ratio = two.seconds / one.seconds;
  const label = `count by user, ${RECORDS.toLocaleString('en')} records`;
  rows.push({ case: label, subject: 'op reduce (baseline)', ...one, ratio: '1.00' });
  rows.push({ case: label, subject: 'op reduce -w 2', ...two, ratio: ratio.toFixed(2), target: '≤ 0.67', result: ratio <= 0.67 ? 'ok (output checked)' : 'MISSED (output checked)' });
  failed ||= ratio > 0.67;
}

async function keysCase() {
  const input = await ensureFile(`keys-${KEYS}.ndjson`, (out) => writeKeys(out, KEYS));
  const argv = [NODE, OP, 'reduce', '--key', 'key', '--agg', 'count,sum:n', '--max-memory', '200MB', '--stats'];
  const result = await measure(argv, input, true);
  await checkKeys(result.output, KEYS);
  rmSync(result.output);
  const ok = result.rss === undefined || result.rss <= RSS_TARGET_MIB;
  failed ||= !ok;
  rows.push({
    case: `${KEYS.toLocaleString('en')} distinct keys, --max-memory 200MB`,
    subject: `op reduce (${result.stats.spills} spills)`,
    seconds: result.seconds,
    rss: result.rss,
    target: `≤ ${RSS_TARGET_MIB} MiB`,
    result: ok ? 'ok (output checked)' : 'MISSED',
  });
}

/** Both outputs, sorted by user: the same users, counts equal, sums equal to 1e-9. */
async function compareWithMiller(ours, miller, input) {
  const mine = parseLines(await capture(ours, input)).map((r) => [r.key.user, r.sum_score, r.count]);
  const theirs = parseLines(await capture(miller, input)).map((r) => [r.user, r.score_sum, r.score_count]);
  const byUser = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  mine.sort(byUser);
  theirs.sort(byUser);
  if (mine.length === 0) throw new Error('no groups: is the input empty?');
  if (mine.length !== theirs.length) throw new Error(`op reduce gave ${mine.length} groups, Miller ${theirs.length}`);
  mine.forEach(([user, sum, count], k) => {
    const [u, s, c] = theirs[k];
    if (user !== u || count !== c || Math.abs(sum - s) > 1e-9 * Math.max(1, Math.abs(s))) throw new Error(`group ${k}: op reduce ${JSON.stringify([user, sum, count])}, Miller ${JSON.stringify([u, s, c])}`);
  });
  console.log(`checked: op reduce and Miller agree on ${mine.length.toLocaleString('en')} groups`);
}

/** One group per key k0…k(N-1), in that order, count 1 and sum i % 10. */
async function checkKeys(file, n) {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let k = 0;
  for await (const line of lines) {
    const r = JSON.parse(line);
    if (r.key.key !== `k${k}` || r.count !== 1 || r.sum_n !== k % 10) throw new Error(`group ${k}: ${line}`);
    k++;
  }
  if (k !== n) throw new Error(`${k} groups for ${n} keys`);
  console.log(`checked: ${n.toLocaleString('en')} groups, one per key, in first-appearance order`);
}

function summarise(runs) {
  const seconds = median(runs.map((r) => r.seconds));
  const rss = runs.some((r) => r.rss !== undefined) ? Math.max(...runs.map((r) => r.rss ?? 0)) : undefined;
  return { seconds, rss };
}

/** Wall time and peak RSS (MiB) of one run, stdout to /dev/null or, with `keep`, to a file. */
async function measure(argv, input, keep = false) {
  const output = keep ? join(tmpdir(), `opkit-bench-reduce-${process.pid}.ndjson`) : '/dev/null';
  const wrapped = TIME ? [TIME, '-f', '%M', ...argv] : argv;
  const started = performance.now();
  const { stderr } = await run(wrapped, input, output);
  const seconds = (performance.now() - started) / 1000;
  const lines = stderr.trim().split('\n');
  const rss = TIME ? Number(lines.pop()) / 1024 : undefined;
  const statsLine = lines.reverse().find((line) => line.startsWith('{'));
  return { seconds, rss, output, stats: statsLine ? JSON.parse(statsLine) : {} };
}

function run(argv, input, output) {
  const stdin = openSync(input, 'r');
  const stdout = output === 'pipe' ? 'pipe' : openSync(output, 'w');
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, stdout, 'pipe'] });
  closeSync(stdin);
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve({ stderr }) : reject(new Error(`${argv.join(' ')}: exit ${status}\n${stderr}`))));
  });
}

function parseLines(text) {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** `{"key":"k<i>","n":<i % 10>}` for i < n: every key distinct. */
async function writeKeys(out, n) {
  let text = '';
  for (let i = 0; i < n; i++) {
    text += `{"key":"k${i}","n":${i % 10}}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
      text = '';
    }
  }
  out.end(text);
  await new Promise((resolve) => out.on('finish', resolve));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** argv's stdout as text, with `input` as its stdin. */
async function capture(argv, input) {
  return (await captureBytes(argv, input)).toString('utf8');
}

#!/usr/bin/env node
// op shard against the raw Node map loop (raw-map.mjs 'r => r'), in the same run, on the
// same input: the byte path (--by index) must be at least 4x faster than the loop that
// parses and serialises every record. The parse paths (--by key, --seq) are shown too.
//
//   node bench/shard.mjs                     1,000,000 records, median of 3 runs each
//   node bench/shard.mjs --records 200000 --runs 5
//
// Environment: OPKIT_SHARED_BENCH, the folder of gen-ndjson.mjs and raw-map.mjs
// (default ../shared/bench). The input is generated once into bench/data/ (git-ignored).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SHARED, capture, ensureRecords } from './bench-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const OP = join(root, 'bin', 'run.js');
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } } });
const RECORDS = Number(values.records);
const RUNS = Number(values.runs);
/** The requirement: op shard --by index at least 4x faster than raw-map 'r => r'. */
const TARGET = 4;

const baseline = { label: "raw-map 'r => r'", argv: [NODE, join(SHARED, 'raw-map.mjs'), 'r => r'] };
const op = (...args) => ({ label: `op shard ${args.join(' ')}`, argv: [NODE, OP, 'shard', ...args] });
const SUBJECTS = [
  { ...op('--rank', '0', '--world', '1'), target: TARGET },
  { ...op('--rank', '0', '--world', '2'), target: TARGET },
  { ...op('--rank', '0', '--world', '8'), target: TARGET },
  op('--by', 'key:user', '--rank', '0', '--world', '2'),
  op('--seq', '_i', '--rank', '0', '--world', '2'),
];

const input = await ensureRecords(RECORDS);
await verify(input);
const rows = [];
const base = [];
for (const subject of SUBJECTS) {
  const times = [];
  // Alternating runs: a noisy neighbour slows both sides alike.
  for (let run = 0; run < RUNS; run++) {
    base.push(await timeRun(baseline.argv, input));
    times.push(await timeRun(subject.argv, input));
  }
  rows.push({ subject, seconds: median(times) });
}
const baseS = median(base);
console.log(`op shard vs ${baseline.label}: ${RECORDS.toLocaleString('en')} records, ${(statSync(input).size / 2 ** 20).toFixed(0)} MiB, median of ${RUNS} runs each (baseline: ${base.length} runs), start-up included`);
console.log(`${'subject'.padEnd(44)} ${'seconds'.padStart(8)} ${'speed-up'.padStart(9)}  target`);
console.log(`${baseline.label.padEnd(44)} ${baseS.toFixed(3).padStart(8)} ${'1.00x'.padStart(9)}`);
let failed = false;
for (const { subject, seconds } of rows) {
  const speedUp = baseS / seconds;
  const verdict = subject.target === undefined ? '(parses; information)' : speedUp >= subject.target ? `≥ ${subject.target}x ok` : `≥ ${subject.target}x MISSED`;
  failed ||= subject.target !== undefined && speedUp < subject.target;
  console.log(`${subject.label.padEnd(44)} ${seconds.toFixed(3).padStart(8)} ${(speedUp.toFixed(2) + 'x').padStart(9)}  ${verdict}`);
}
process.exitCode = failed ? 1 : 0;

/** The speed means nothing if the output is wrong: world 1 is the input, world 2 its odd lines. */
async function verify(file) {
  const whole = readFileSync(file);
  const one = await capture([NODE, OP, 'shard', '--rank', '0', '--world', '1'], file);
  if (!one.equals(whole)) throw new Error('op shard --world 1 did not reproduce its input');
  const lines = whole.toString('utf8').split('\n').slice(0, -1);
  const want = lines.filter((_, i) => i % 2 === 1).join('\n') + '\n';
  const two = await capture([NODE, OP, 'shard', '--rank', '1', '--world', '2'], file);
  if (hash(two) !== hash(Buffer.from(want))) throw new Error('op shard --rank 1 --world 2 is not the odd records');
}

function timeRun(argv, file) {
  const stdin = openSync(file, 'r');
  const stdout = openSync('/dev/null', 'w');
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, stdout, 'inherit'] });
  closeSync(stdin);
  closeSync(stdout);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${argv.join(' ')}: exit ${status}`))));
  });
}

function hash(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

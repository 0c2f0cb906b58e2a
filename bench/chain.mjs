#!/usr/bin/env node
// A `then` chain in one process against the same steps as a three-process pipe:
//   op map A then filter B then map C   vs   op map A | op filter B | op map C
// and the same chain with -w 2 (each worker runs the whole chain on its chunks).
// Usage: npm run build && node bench/chain.mjs [RECORDS] [RUNS]
// Prints wall and CPU (user + sys, the pipe's three processes summed) medians, their
// ratios, and whether the outputs are the same bytes, for two versions of step C: one that
// sets two fields on the record, and one that spreads it into a new object with them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.OPKIT_SHARED_BENCH ?? join(root, '../shared/bench');
const records = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const OP = `${process.execPath} ${join(root, 'bin/run.js')}`;
const A = `'({id: r.id, user: r.user, score: r.score, tags: r.tags})'`;
const B = `'r.score > 250'`;
// Object spread followed by more keys is slow in V8 itself (a hand-written loop pays it too),
// so with it step C's own cost weighs on every side; the first C shows op's part.
const STEP_C = {
  assign: `'(r.tag = r.tags[0], r.big = r.score > 750, r)'`,
  spread: `'({...r, tag: r.tags[0], big: r.score > 750})'`,
};
const data = join(root, 'bench/data', `chain-records-${records}.ndjson`);
if (!existsSync(data)) {
  mkdirSync(dirname(data), { recursive: true });
  const fd = openSync(data, 'w');
  const made = spawnSync(process.execPath, [join(SHARED, 'gen-ndjson.mjs'), String(records)], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  if (made.status !== 0) {
    rmSync(data);
    throw new Error('gen-ndjson.mjs failed; set OPKIT_SHARED_BENCH to its folder');
  }
}

/** One run under /usr/bin/time: wall seconds, and CPU of the shell and every process it waited for. */
function measure(script, out) {
  const { stderr, status } = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', `(${script}) < ${data} > ${out}`], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (status !== 0) throw new Error(`${script} failed: ${stderr}`);
  const [wall, user, sys] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys };
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const hash = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
console.log('| step C | case | wall s | CPU s | pipe / case, wall | pipe / case, CPU |\n|---|---|---|---|---|---|');
for (const [name, C] of Object.entries(STEP_C)) {
  const cases = {
    pipe: `${OP} map ${A} | ${OP} filter ${B} | ${OP} map ${C}`,
    chain: `${OP} map ${A} then filter ${B} then map ${C}`,
    'chain -w 2': `${OP} map ${A} then filter ${B} then map ${C} -w 2`,
  };
  const results = Object.fromEntries(Object.keys(cases).map((key) => [key, []]));
  const outs = Object.fromEntries(Object.keys(cases).map((key, k) => [key, `${data}.${k}.out`]));
  for (let k = 0; k < runs; k++) for (const key of Object.keys(cases)) results[key].push(measure(cases[key], outs[key]));
  const pipeHash = hash(outs.pipe);
  const row = (key) => ({ wall: median(results[key].map((r) => r.wall)), cpu: median(results[key].map((r) => r.cpu)) });
  const pipe = row('pipe');
  for (const key of Object.keys(cases)) {
    const { wall, cpu } = row(key);
    const differs = key !== 'pipe' && hash(outs[key]) !== pipeHash ? ' (OUTPUT DIFFERS)' : '';
    const ratios = key === 'pipe' ? '| | |' : `| ${(pipe.wall / wall).toFixed(2)}x | ${(pipe.cpu / cpu).toFixed(2)}x${differs} |`;
    console.log(`| ${name} | ${key} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} ${ratios}`);
  }
  for (const path of Object.values(outs)) rmSync(path, { force: true });
}
console.log(`\n${records.toLocaleString('en-US')} records, medians of ${runs} runs per case, in turn; each chain's output is compared with the pipe's, byte for byte.`);

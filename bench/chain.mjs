#!/usr/bin/env node
// A `then` chain in one process against the same steps as a three-process pipe:
//   op map A then filter B then map C   vs   op map A | op filter B | op map C
// Usage: npm run build && node bench/chain.mjs [RECORDS] [RUNS]
// Prints wall and CPU (user + sys, the pipe's three processes summed) medians, their
// ratios, and whether the outputs are the same bytes.
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
const C = `'({...r, tag: r.tags[0], big: r.score > 750})'`;
const CASES = {
  pipe: `${OP} map ${A} | ${OP} filter ${B} | ${OP} map ${C}`,
  chain: `${OP} map ${A} then filter ${B} then map ${C}`,
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
const results = { pipe: [], chain: [] };
const outs = { pipe: `${data}.pipe.out`, chain: `${data}.chain.out` };
for (let k = 0; k < runs; k++) for (const name of ['pipe', 'chain']) results[name].push(measure(CASES[name], outs[name]));
const hash = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const same = hash(outs.pipe) === hash(outs.chain);
const row = (name) => ({ wall: median(results[name].map((r) => r.wall)), cpu: median(results[name].map((r) => r.cpu)) });
const pipe = row('pipe');
const chain = row('chain');
console.log(`| case | wall s | CPU s |\n|---|---|---|`);
console.log(`| pipe: op map A \\| op filter B \\| op map C | ${pipe.wall.toFixed(2)} | ${pipe.cpu.toFixed(2)} |`);
console.log(`| chain: op map A then filter B then map C | ${chain.wall.toFixed(2)} | ${chain.cpu.toFixed(2)} |`);
console.log(`| pipe / chain | ${(pipe.wall / chain.wall).toFixed(2)}x | ${(pipe.cpu / chain.cpu).toFixed(2)}x |`);
console.log(`\n${records.toLocaleString('en-US')} records, medians of ${runs} runs per side, alternating; outputs ${same ? 'the same bytes' : 'DIFFER'}.`);
for (const path of Object.values(outs)) rmSync(path, { force: true });

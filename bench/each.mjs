#!/usr/bin/env node
// op each: the cost per job against xargs -P and GNU parallel, measured in the same run and
// alternating, and peak RSS over many jobs that each print 100 KiB.
//
//   node bench/each.mjs                          2,000 jobs per side, 3 runs; 100,000 x 100 KiB
//   node bench/each.mjs --jobs 2000 --runs 5 --mem-jobs 10000
//   node bench/each.mjs --skip-mem            (or --skip-speed)
//
// The spawn floor is measured too: node:child_process spawn and execa, both -j 2, from a bare
// Node process. Scratch files go to bench/data/ (git-ignored).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The command users run (bin/op: op each gets its heap settings there).
const OP = join(root, 'bin', 'op');
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    'mem-jobs': { type: 'string', default: '100000' },
    'skip-mem': { type: 'boolean', default: false },
    'skip-speed': { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const RUNS = Number(values.runs);
const MEM_JOBS = Number(values['mem-jobs']);
const scratch = join(root, 'bench', 'data', `each-${process.pid}`);
mkdirSync(scratch, { recursive: true });

const numbers = join(scratch, 'numbers');
writeFileSync(numbers, Array.from({ length: JOBS }, (_, k) => `${k}\n`).join(''));
const records = join(scratch, 'records.ndjson');
writeFileSync(records, Array.from({ length: JOBS }, (_, k) => `{"i":${k}}\n`).join(''));
const empty = join(scratch, 'empty.ndjson');
writeFileSync(empty, '');
const hasParallel = await works('parallel', ['--version']);

const floorScript = join(scratch, 'floor.mjs');
writeFileSync(
  floorScript,
  `const [how, n] = process.argv.slice(2);
const run = how === 'execa'
  ? (await import(${JSON.stringify(join(root, 'node_modules/execa/index.js'))})).execa
  : null;
const { spawn } = await import('node:child_process');
let next = 0;
async function lane() {
  while (next < Number(n)) {
    next++;
    if (run) await run('true', [], { reject: false, stdin: 'ignore' });
    else await new Promise((resolve) => spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'], detached: true }).on('close', resolve));
  }
}
await Promise.all([lane(), lane()]);
`,
);

const sides = values['skip-speed'] ? [] : [
  { label: 'xargs -P2 -n1 true', file: 'xargs', args: ['-P2', '-n1', 'true'], input: numbers },
  ...(hasParallel ? [{ label: 'parallel -j2 true', file: 'parallel', args: ['-j2', 'true'], input: numbers }] : []),
  { label: 'op each -j 2 -- true', file: OP, args: ['each', '-j', '2', '--', 'true'], input: records },
  { label: 'op each -j 2 --capture none -- true', file: OP, args: ['each', '-j', '2', '--capture', 'none', '--', 'true'], input: records },
  { label: 'op each start-up (no records)', file: OP, args: ['each', '-j', '2', '--', 'true'], input: empty, startup: true },
  { label: 'node spawn -j 2 (floor: 2 pipes, own group)', file: process.execPath, args: [floorScript, 'spawn', String(JOBS)], input: empty },
  { label: 'execa -j 2 (floor)', file: process.execPath, args: [floorScript, 'execa', String(JOBS)], input: empty },
];
for (const side of sides) (side.seconds = []), (side.cpu = []);
for (let run = 0; run < RUNS; run++) {
  for (const side of sides) {
    const result = await measure(side.file, side.args, side.input, true);
    side.seconds.push(result.seconds);
    side.cpu.push(result.cpu);
  }
}

if (sides.length > 0) printSpeed();

function printSpeed() {
const startup = median(sides.find((side) => side.startup).seconds);
const xargs = median(sides[0].seconds);
console.log(`${JOBS.toLocaleString('en-US')} jobs per side, medians of ${RUNS} alternating runs; ms/job = wall / jobs (op each also net of its start-up, ${(startup * 1000).toFixed(0)} ms)`);
console.log(`${'side'.padEnd(46)} ${'wall s'.padStart(7)} ${'ms/job'.padStart(7)} ${'net'.padStart(6)} ${'vs xargs'.padStart(8)} ${'cpu ms/job'.padStart(10)}`);
for (const side of sides) {
  const s = median(side.seconds);
  if (side.startup) {
    console.log(`${side.label.padEnd(46)} ${s.toFixed(2).padStart(7)}`);
    continue;
  }
  const net = side.file === OP ? (((s - startup) / JOBS) * 1000).toFixed(2) : '';
  const cpu = ((median(side.cpu) / JOBS) * 1000).toFixed(2);
  console.log(`${side.label.padEnd(46)} ${s.toFixed(2).padStart(7)} ${((s / JOBS) * 1000).toFixed(2).padStart(7)} ${net.padStart(6)} ${(s / xargs).toFixed(2).padStart(8)} ${cpu.padStart(10)}`);
}
}

if (!values['skip-mem']) {
  const hundredKiB = join(scratch, '100k.txt');
  writeFileSync(hundredKiB, 'abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(2840).slice(0, 100 * 1024));
  const many = join(scratch, 'many.ndjson');
  writeFileSync(many, Array.from({ length: MEM_JOBS }, (_, k) => `{"i":${k}}\n`).join(''));
  const result = await measure(OP, ['each', '-j', '2', '--', 'cat', hundredKiB], many, true);
  console.log(`\npeak RSS, op each -j 2 -- cat 100KiB-file, ${MEM_JOBS.toLocaleString('en-US')} jobs: ${(result.peakKiB / 1024).toFixed(1)} MiB in ${result.seconds.toFixed(1)} s (target ≤ 120 MiB)`);
}
rmSync(scratch, { recursive: true, force: true });

/**
 * Wall seconds of `file args < input > /dev/null`; with `rss`, peak RSS and CPU seconds
 * (user + system, the jobs included: less at the mercy of a busy machine than wall time)
 * from /usr/bin/time.
 */
function measure(file, args, input, rss = false) {
  const timeOut = join(scratch, 'time.out');
  const [cmd, cmdArgs] = rss ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', timeOut, file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/bin/sh', ['-c', 'exec "$@" < "$0" > /dev/null', input, cmd, ...cmdArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => {
      const seconds = (performance.now() - started) / 1000;
      if (status !== 0) return reject(new Error(`${file} ${args.join(' ')}: exit ${status}: ${stderr}`));
      const [peakKiB, user, system] = rss && existsSync(timeOut) ? readFileSync(timeOut, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [];
      resolve({ seconds, peakKiB, cpu: user + system });
    });
  });
}

function works(file, args) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (status) => resolve(status === 0));
  });
}

function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

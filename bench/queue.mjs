#!/usr/bin/env node
// A work queue end to end, in one run: op queue push N records, 2 consumers
// `op map r --from Q --to Q --drain` at once, op queue pull; against the same map over
// stdin. Reports records/s of each phase and end to end, the ratio to stdin, each
// consumer's peak RSS, and Redis's own CPU per record during the consume phase (INFO
// CPU before and after), which is what bounds the consumers one Redis can serve.
//
//   node bench/queue.mjs                      1,000,000 records, 2 consumers
//   node bench/queue.mjs --records 200000 --consumers 4
//
// Needs Redis at 127.0.0.1:6379 (OPKIT_BENCH_REDIS to change it) and /usr/bin/time.
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureRecords, redisCpuOfInfo } from './bench-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = process.env.OPKIT_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const NODE = process.execPath;
const OP = join(root, 'bin', 'run.js');
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, consumers: { type: 'string', default: '2' } } });
const RECORDS = Number(values.records);
const CONSUMERS = Number(values.consumers);
const NAME = `bench-${process.pid}`;
const URL = `${SERVER}/${NAME}`;
const { hostname, port } = new globalThis.URL(SERVER);

const input = await ensureRecords(RECORDS);
const cpu0 = await redisCpu();
const push = await run([NODE, OP, 'queue', 'push', URL, '--in', input]);
const cpu1 = await redisCpu();
const consumers = await Promise.all(Array.from({ length: CONSUMERS }, () => run(['/usr/bin/time', '-f', '%M', NODE, OP, 'map', 'r', '--from', URL, '--to', URL, '--drain'], { rss: true })));
const consumeS = Math.max(...consumers.map((c) => c.seconds));
const cpu2 = await redisCpu();
const pull = await run([NODE, OP, 'queue', 'pull', URL], { count: true });
const cpu3 = await redisCpu();
const stdin = await run([NODE, OP, 'map', 'r'], { stdin: input });
await redisCli(['DEL', `opkit:{${NAME}}:in`, `opkit:{${NAME}}:out`, `opkit:{${NAME}}:dead`, `opkit:{${NAME}}:starts`]);
if (pull.lines !== RECORDS) console.error(`pull wrote ${pull.lines} results, not ${RECORDS}`);

const total = push.seconds + consumeS + pull.seconds;
const rate = (seconds) => Math.round(RECORDS / seconds).toLocaleString('en');
const perRecordUs = (a, b) => (((b - a) * 1e6) / RECORDS).toFixed(2);
console.log(`queue ${NAME}: ${RECORDS.toLocaleString('en')} records, ${(statSync(input).size / 2 ** 20).toFixed(0)} MiB, ${CONSUMERS} consumers (inline), start-up included`);
console.log(`push       ${push.seconds.toFixed(2)} s  ${rate(push.seconds)} records/s  Redis CPU ${perRecordUs(cpu0, cpu1)} µs/record`);
console.log(`consume    ${consumeS.toFixed(2)} s  ${rate(consumeS)} records/s  Redis CPU ${perRecordUs(cpu1, cpu2)} µs/record (${((cpu2 - cpu1) / consumeS * 100).toFixed(0)}% of a core)`);
console.log(`pull       ${pull.seconds.toFixed(2)} s  ${rate(pull.seconds)} records/s  Redis CPU ${perRecordUs(cpu2, cpu3)} µs/record`);
console.log(`end to end ${total.toFixed(2)} s  ${rate(total)} records/s  (target ≥ 100,000/s: ${RECORDS / total >= 100_000 ? 'ok' : 'MISSED'})`);
console.log(`op map r over stdin: ${stdin.seconds.toFixed(2)} s, ${rate(stdin.seconds)} records/s; consume phase / stdin: ${(consumeS / stdin.seconds).toFixed(2)}x the time, end to end / stdin: ${(total / stdin.seconds).toFixed(2)}x`);
console.log(`consumer peak RSS: ${consumers.map((c) => (c.rssKiB / 1024).toFixed(0) + ' MiB').join(', ')} (target ≤ 150 MiB)`);

/** Runs argv; stdout to /dev/null unless counted; with rss, the last stderr line is /usr/bin/time's %M. */
function run(argv, options = {}) {
  const stdin = options.stdin ? openSync(options.stdin, 'r') : 'ignore';
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, options.count ? 'pipe' : 'ignore', 'pipe'] });
  if (typeof stdin === 'number') closeSync(stdin);
  let lines = 0;
  child.stdout?.on('data', (chunk) => {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  });
  let err = '';
  child.stderr.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`${argv.join(' ')}: exit ${status}\n${err}`));
      const rssKiB = options.rss ? Number(err.trim().split('\n').pop()) : undefined;
      resolve({ seconds: (performance.now() - started) / 1000, lines, rssKiB });
    });
  });
}

/** Redis's CPU seconds so far (user + sys, every thread). */
async function redisCpu() {
  return redisCpuOfInfo(await redisCli(['INFO', 'CPU']));
}

function redisCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', hostname, '-p', port || '6379', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`redis-cli ${args.join(' ')}: exit ${status}`))));
  });
}

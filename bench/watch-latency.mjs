#!/usr/bin/env node
// op watch: the delay from a file's last write to the start of its run, over N files written
// one after another (each waits for its run), with the spawn of the same command from Node
// measured in the same run as the floor. The run's start is taken inside the command
// (`date +%s%N`), so spawn cost is included.
//
//   node bench/watch-latency.mjs               20 files per setting
//   node bench/watch-latency.mjs --files 50
//
// Scratch files go to bench/data/ (git-ignored).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OP = join(root, 'bin', 'run.js');
const { values } = parseArgs({ options: { files: { type: 'string', default: '20' } } });
const FILES = Number(values.files);
/** The command: note when it started, in ns since the epoch, and for which file. */
const STAMP = ['sh', '-c', 'echo "$(date +%s%N) $1" >> "$2"', '_'];

const now = () => performance.timeOrigin + performance.now();
const scratch = join(root, 'bench', 'data', `watch-latency-${process.pid}`);

// `waits`: the settle + debounce time the setting asks for; the rest is op watch's own cost.
const rows = [{ label: 'spawn from Node (floor)', waits: 0, delays: await measureSpawn() }];
for (const [args, waits] of [[[], 250], [['--settle', '50', '--debounce', '0'], 50]]) {
  rows.push({ label: `op watch ${args.length ? args.join(' ') : '(defaults: --settle 200 --debounce 50)'}`, waits, delays: await measureWatch(args) });
}
rmSync(scratch, { recursive: true, force: true });

console.log(`last write -> run start, ${FILES} files each, ms; overhead = median - settle - debounce`);
console.log(`${'setting'.padEnd(52)} ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'max'.padStart(7)} ${'overhead'.padStart(8)}`);
for (const { label, waits, delays } of rows) {
  const sorted = [...delays].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)];
  console.log(`${label.padEnd(52)} ${fmt(median(delays))} ${fmt(p90)} ${fmt(sorted.at(-1))} ${fmt(median(delays) - waits).padStart(8)}`);
}

async function measureWatch(args) {
  const dir = join(scratch, `in-${args.length}`);
  const log = join(scratch, `starts-${args.length}.log`);
  mkdirSync(dir, { recursive: true });
  const watcher = spawn(process.execPath, [OP, 'watch', dir, ...args, '--', ...STAMP, '{path}', log], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  watcher.stderr.on('data', (chunk) => (stderr += chunk));
  await until(() => stderr.includes('op watch: watching'));
  const delays = [];
  for (let i = 0; i < FILES; i++) {
    const path = join(dir, `f${i}.ndjson`);
    writeFileSync(path, '{"i":' + i + '}\n');
    const lastWrite = now();
    const line = await until(() => startLine(log, path));
    delays.push(Number(BigInt(line.split(' ')[0]) / 1000n) / 1000 - lastWrite);
  }
  watcher.kill('SIGTERM');
  await new Promise((resolve) => watcher.on('close', resolve));
  return delays;
}

async function measureSpawn() {
  mkdirSync(scratch, { recursive: true });
  const log = join(scratch, 'spawn.log');
  const delays = [];
  for (let i = 0; i < FILES; i++) {
    const before = now();
    const child = spawn(STAMP[0], [...STAMP.slice(1), `s${i}`, log], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('close', resolve));
    const line = startLine(log, `s${i}`);
    delays.push(Number(BigInt(line.split(' ')[0]) / 1000n) / 1000 - before);
  }
  return delays;
}

function startLine(log, path) {
  if (!existsSync(log)) return undefined;
  return readFileSync(log, 'utf8').split('\n').find((line) => line.endsWith(` ${path}`));
}

async function until(check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(2);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(ms) {
  return ms.toFixed(0).padStart(7);
}

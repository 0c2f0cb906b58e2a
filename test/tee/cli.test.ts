import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, runOp } from '../helpers/run-op.js';
import { scratch } from '../shard/op-shell.js';

const INPUT = Array.from({ length: 2000 }, (_, k) => `{"n":${k},"s":"ü"}\n`).join('');
// Copies its stdin to FILE, but only once GO exists: a copy as slow as we like.
const SLOW_READER = `import { createWriteStream, existsSync } from 'node:fs';
const [go, file] = process.argv.slice(2);
while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 20));
process.stdin.pipe(createWriteStream(file));
`;
const work = scratch({ 'slow.mjs': SLOW_READER, 'in.ndjson': INPUT });
const path = (name: string): string => join(work.dir, name);

test.after(() => work.remove());

test('op tee FILE writes a file identical to stdout; .gz names are compressed', async () => {
  const result = await runOp(['tee', 'a.ndjson', 'b.ndjson.gz'], { cwd: work.dir, input: INPUT });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, INPUT);
  assert.is(work.read('a.ndjson'), INPUT);
  assert.is(gunzipSync(readFileSync(path('b.ndjson.gz'))).toString('utf8'), INPUT);
});

test('--to runs argv words with no shell; its stdout goes to stderr, not into the stream', async () => {
  const script = `process.stdin.pipe(require('fs').createWriteStream(process.argv[1])); process.stdout.write('side note $HOME\\n')`;
  const result = await runOp(['tee', '--in', 'in.ndjson', '--to', `node -e "${script}" 'c d.ndjson'`], { cwd: work.dir });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, INPUT);
  assert.is(result.stderr, 'side note $HOME\n');
  assert.is(work.read('c d.ndjson'), INPUT);
});

test('a failed copy fails the run naming it; --ignore-errors drops it with one warning', async () => {
  const failed = await runOp(['tee', '--to', 'node -e process.exit(3)', 'x.ndjson'], { cwd: work.dir, input: INPUT });
  assert.is(failed.status, 1);
  assert.is(failed.stderr, `op tee: --to 'node -e process.exit(3)': exited with status 3\n`);
  const missing = await runOp(['tee', '--to', 'no-such-command-here'], { cwd: work.dir, input: INPUT });
  assert.is(missing.status, 1);
  assert.is(missing.stderr, `op tee: --to 'no-such-command-here': command not found\n`);
  const ignored = await runOp(['tee', '--ignore-errors', '--to', 'node -e process.exit(3)', 'y.ndjson'], { cwd: work.dir, input: INPUT });
  assert.is(ignored.status, 0, ignored.stderr);
  assert.is(ignored.stderr, `op tee: warning: --to 'node -e process.exit(3)': exited with status 3; that copy is dropped\n`);
  assert.is(ignored.stdout, INPUT);
  assert.is(work.read('y.ndjson'), INPUT);
});

test('a file that cannot be opened is a usage error before any input is read', async () => {
  const result = await runOp(['tee', 'no/such/dir/x.ndjson'], { cwd: work.dir, input: INPUT });
  assert.is(result.status, 2);
  assert.is(result.stderr, 'op tee: cannot open no/such/dir/x.ndjson for writing: no such file\nSee op tee --help\n');
});

test('a slow --to copy sets the pace: op stops reading while it is blocked, and memory stays flat', async () => {
  const go = path('go');
  const op = spawn(process.execPath, [OP, 'tee', '--to', `node slow.mjs go slow.ndjson`], { cwd: work.dir, stdio: ['pipe', 'pipe', 'inherit'] });
  let outBytes = 0;
  op.stdout.on('data', (chunk: Buffer) => (outBytes += chunk.length));
  const exited = once(op, 'close');
  // 1,000,000 records of 100 bytes, written in 1 MiB pieces, until op stops taking them.
  const record = `{"pad":"${'x'.repeat(90)}"}\n`;
  const piece = Buffer.from(record.repeat(Math.floor((1024 * 1024) / record.length)));
  const total = 1_000_000 * record.length;
  let written = 0;
  let stalled = false;
  while (written < total && !stalled) {
    const bytes = piece.subarray(0, Math.min(piece.length, total - written));
    written += bytes.length;
    if (op.stdin.write(bytes)) continue;
    // Noticing the stall needs a wait; what is asserted is how much op took, not a time.
    const drained = once(op.stdin, 'drain').then(() => false);
    stalled = await Promise.race([drained, new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2000))]);
  }
  assert.ok(stalled, `op read all ${written} bytes while its --to copy was blocked`);
  assert.ok(written < 16 * 1024 * 1024, `op took ${written} bytes behind a blocked copy`);
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${op.pid}/status`, 'utf8'))?.[1]) * 1024;
  assert.ok(rss < 120 * 1024 * 1024, `op holds ${rss} bytes`);
  // Released, the copy takes everything, and so does stdout.
  writeFileSync(go, '');
  for (let left = total - written; left > 0; left -= piece.length) {
    if (!op.stdin.write(piece.subarray(0, Math.min(piece.length, left)))) await once(op.stdin, 'drain');
  }
  op.stdin.end();
  const [status] = await exited;
  assert.is(status, 0);
  assert.is(outBytes, total);
  assert.ok(existsSync(path('slow.ndjson')));
  assert.is(readFileSync(path('slow.ndjson')).length, total);
});

test.run();

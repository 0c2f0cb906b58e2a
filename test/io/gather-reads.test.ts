import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gatherReads } from '../../src/io/gather-reads.js';

/** A Python child that writes `lines` lines with one write(2) each (unbuffered), `pauseMs` apart every `every` lines. */
function writer(lines: number, every = lines, pauseMs = 0) {
  const program = `import sys, time\nfor k in range(${lines}):\n    sys.stdout.write('{"k":%d}\\n' % k)\n    if (k + 1) % ${every} == 0: time.sleep(${pauseMs / 1000})\n`;
  return spawn('python3', ['-u', '-c', program], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function expected(lines: number): string {
  return Array.from({ length: lines }, (_, k) => `{"k":${k}}\n`).join('');
}

test('a line-at-a-time writer is read in batches, every byte in order', async () => {
  const N = 20000;
  const child = writer(N);
  const chunks: Buffer[] = [];
  gatherReads(child.stdout, (chunk) => chunks.push(chunk));
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), expected(N));
  // Measured: ~70 reads; read as it comes, ~4,300 (a read per 5 lines).
  assert.ok(chunks.length < N / 50, `${chunks.length} reads for ${N} lines`);
});

test('lines written while reading rests still arrive, and the end is seen', async () => {
  // 5 bursts of 3 lines, 30 ms apart: each burst's first line stops reading, the rest wait for it.
  const child = writer(15, 3, 30);
  const chunks: Buffer[] = [];
  gatherReads(child.stdout, (chunk) => chunks.push(chunk));
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), expected(15));
});

test('after the owner ends the batching, reading goes on as it comes', async () => {
  const child = writer(2000, 100, 5);
  const chunks: Buffer[] = [];
  const end = gatherReads(child.stdout, (chunk) => {
    chunks.push(chunk);
    if (chunks.length === 1) end();
  });
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), expected(2000));
});

test.run();

import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gatherReads } from '../../src/io/gather-reads.js';
import { lineWriter, writtenLines } from '../helpers/line-writer.js';

test('a line-at-a-time writer is read in batches, every byte in order', async () => {
  const N = 20000;
  const child = lineWriter(N);
  const chunks: Buffer[] = [];
  gatherReads(child.stdout, (chunk) => chunks.push(chunk));
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), writtenLines(N));
  // Measured: ~70 reads; read as it comes, ~4,300 (a read per 5 lines).
  assert.ok(chunks.length < N / 50, `${chunks.length} reads for ${N} lines`);
});

test('lines written while reading rests still arrive, and the end is seen', async () => {
  // 5 bursts of 3 lines, 30 ms apart: each burst's first line stops reading, the rest wait for it.
  const child = lineWriter(15, 3, 30);
  const chunks: Buffer[] = [];
  gatherReads(child.stdout, (chunk) => chunks.push(chunk));
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), writtenLines(15));
});

test('after the owner ends the batching, reading goes on as it comes', async () => {
  const child = lineWriter(2000, 100, 5);
  const chunks: Buffer[] = [];
  const end = gatherReads(child.stdout, (chunk) => {
    chunks.push(chunk);
    if (chunks.length === 1) end();
  });
  await once(child.stdout, 'end');
  assert.is(Buffer.concat(chunks).toString(), writtenLines(2000));
});

test.run();

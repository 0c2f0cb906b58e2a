import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSink } from '../../src/io/open-sink.js';

test('writes behind a slow reader share one wait: no listener is added per write', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning.name);
  process.on('warning', onWarning);
  const dir = mkdtempSync(join(tmpdir(), 'opkit-sink-'));
  const fifo = join(dir, 'errors');
  execFileSync('mkfifo', [fifo]);
  // Read and write: the open never waits for a reader, and nothing is read until the writes are queued.
  const reader = await open(fifo, 'r+');
  const sink = openSink(fifo, undefined, { label: '--errors', lossIsFailure: { unit: 'dead letters' } });
  const line = 'x'.repeat(1023) + '\n';
  const writes = 200;
  // Dead letters of records that finish while their chunk is written are not awaited one by one.
  const waits = Array.from({ length: writes }, () => sink.write(line));
  assert.ok(waits.filter(Boolean).length > 100, 'most writes wait behind the full pipe');
  const buffer = Buffer.alloc(64 * 1024);
  for (let got = 0; got < writes * line.length; ) got += (await reader.read(buffer, 0, buffer.length, null)).bytesRead;
  await Promise.all(waits);
  await sink.end();
  await reader.close();
  rmSync(dir, { recursive: true, force: true });
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  assert.equal(warnings, []);
});

test.run();

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openReplyPipe } from '../../src/io/reply-pipe.js';
import { lineWriterArgs, writtenLines } from '../helpers/line-writer.js';

test('a pipe, not a socket: both ends open, and nothing left in the file system', () => {
  // A temporary folder of this test's own, so that nothing else's files are counted.
  const scratch = mkdtempSync(join(tmpdir(), 'opkit-test-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  let ends: ReturnType<typeof openReplyPipe>;
  try {
    ends = openReplyPipe();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  assert.ok(ends, 'no pipe was made');
  try {
    assert.ok(fstatSync(ends.read).isFIFO());
    assert.ok(fstatSync(ends.write).isFIFO());
    assert.equal(readdirSync(scratch), []);
  } finally {
    closeSync(ends.read);
    closeSync(ends.write);
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("a child's line-at-a-time replies arrive whole through it, and its exit ends the read", async () => {
  const ends = openReplyPipe()!;
  const child = spawn('python3', lineWriterArgs(5000), { stdio: ['ignore', ends.write, 'inherit'] });
  closeSync(ends.write);
  const out = new Socket({ fd: ends.read, readable: true, writable: false });
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await Promise.all([once(out, 'close'), once(child, 'exit')]);
  assert.is(Buffer.concat(chunks).toString(), writtenLines(5000));
});

test.run();

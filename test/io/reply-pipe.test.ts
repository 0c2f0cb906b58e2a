import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openReplyPipe } from '../../src/io/reply-pipe.js';

const left = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('opkit-pipe-'));

test('a pipe, not a socket: both ends open, and nothing left in the file system', () => {
  const before = left().length;
  const ends = openReplyPipe();
  assert.ok(ends, 'no pipe was made');
  try {
    assert.ok(fstatSync(ends.read).isFIFO());
    assert.ok(fstatSync(ends.write).isFIFO());
    assert.is(left().length, before);
  } finally {
    closeSync(ends.read);
    closeSync(ends.write);
  }
});

test("a child's line-at-a-time replies arrive whole through it, and its exit ends the read", async () => {
  const ends = openReplyPipe()!;
  const program = 'import sys\nfor k in range(5000):\n    sys.stdout.write(\'{"k":%d}\\n\' % k)\n';
  const child = spawn('python3', ['-u', '-c', program], { stdio: ['ignore', ends.write, 'inherit'] });
  closeSync(ends.write);
  const out = new Socket({ fd: ends.read, readable: true, writable: false });
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await Promise.all([once(out, 'close'), once(child, 'exit')]);
  assert.is(Buffer.concat(chunks).toString(), Array.from({ length: 5000 }, (_, k) => `{"k":${k}}\n`).join(''));
});

test.run();

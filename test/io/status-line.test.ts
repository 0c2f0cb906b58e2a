import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { showStatusLine } from '../../src/io/status-line.js';

/** A stand-in for process.stderr: what was written, as one string, and whether it is a terminal. */
function fakeStream(isTTY: boolean, columns = 80): NodeJS.WriteStream & { text: string } {
  const stream = {
    isTTY,
    columns,
    text: '',
    write(chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean {
      stream.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') (done as () => void)();
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('on a terminal: redrawn in place, cut to one column less than the width', async () => {
  const stream = fakeStream(true, 20);
  let n = 0;
  const end = showStatusLine(() => `line ${++n} ${'x'.repeat(30)}`, { stream, terminalMs: 5 });
  await until(() => n >= 2);
  end();
  const draws = stream.text.split('\r\x1b[K').filter(Boolean);
  assert.ok(draws.length >= 3, stream.text);
  for (const draw of draws) assert.is(draw.replace('\n', '').length, 19, JSON.stringify(draw));
  assert.ok(stream.text.endsWith('\n'));
  assert.is(stream.text.split('\n').length, 2, 'one line, ended once');
});

test('on a terminal: a write clears the line and the line is drawn again below it', async () => {
  const stream = fakeStream(true);
  const original = stream.write;
  let drawn = 0;
  const end = showStatusLine(() => `op map: ${++drawn}`, { stream, terminalMs: 5 });
  await until(() => drawn >= 1);
  stream.write('op map: stdin:3: a log line\n');
  stream.write(Buffer.from('bytes from a worker\n'));
  stream.write('half a line, ');
  stream.write('then its end\n');
  end();
  assert.is(stream.write, original, 'the stream is given back');
  const screen = render(stream.text);
  assert.equal(screen.slice(0, -1), ['op map: stdin:3: a log line', 'bytes from a worker', 'half a line, then its end', `op map: ${drawn}`]);
});

test('not a terminal: a plain line every interval and a final one, with no control characters', async () => {
  const stream = fakeStream(false);
  let n = 0;
  const end = showStatusLine(() => `op map: ${++n} records`, { stream, plainMs: 5 });
  await until(() => n >= 2);
  stream.write('a log line\n');
  end();
  assert.ok(!stream.text.includes('\r') && !stream.text.includes('\x1b'), JSON.stringify(stream.text));
  const lines = stream.text.split('\n');
  assert.is(lines.pop(), '');
  assert.ok(lines.includes('a log line'));
  const status = lines.filter((line) => line !== 'a log line');
  assert.equal(status, status.map((_, k) => `op map: ${k + 1} records`));
  assert.ok(status.length >= 3, stream.text);
});

/** What a terminal shows for `text`: CR returns to the line's start, ESC[K clears to its end. */
function render(text: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let k = 0; k < text.length; k++) {
    const row = lines.length - 1;
    if (text.startsWith('\x1b[K', k)) {
      lines[row] = lines[row]!.slice(0, col);
      k += 2;
    } else if (text[k] === '\r') col = 0;
    else if (text[k] === '\n') {
      lines.push('');
      col = 0;
    } else {
      const line = lines[row]!;
      lines[row] = line.slice(0, col) + text[k] + line.slice(col + 1);
      col++;
    }
  }
  return lines;
}

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeLines } from '../../src/io/decode-lines.js';
import { overflowAt } from '../../src/io/out-of-range.js';
import { findSuspects, suspectsWithin } from '../../src/io/scan-numbers.js';

/** The oracle: does the parsed value hold a number JSON.parse could not carry? */
function holdsInfinity(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'number' && !Number.isFinite(item)) return true;
    if (item !== null && typeof item === 'object') stack.push(...Object.values(item));
  }
  return false;
}

function badLines(text: string): number[] {
  const { bad } = decodeLines(Buffer.from(text));
  return [...(bad?.keys() ?? [])].sort((a, b) => a - b);
}

test('the literal is found where it starts, outside strings', () => {
  assert.is(overflowAt('{"a": [1, -1e400]}'), 10);
  assert.is(overflowAt('1E+309'), 0);
  assert.is(overflowAt('1e308'), undefined);
  assert.is(overflowAt('1.7976931348623157e308'), undefined);
  assert.is(overflowAt('1.8e308'), 0);
  assert.is(overflowAt('1e-400'), undefined, 'underflow is 0, not out of range');
  assert.is(overflowAt('{"s":"1e400 \\" 1e999","n":2}'), undefined);
  assert.is(overflowAt('{"s":"\\\\","n":1e999}'), 14);
  assert.is(overflowAt('9'.repeat(309)), 0);
  assert.is(overflowAt('9'.repeat(308)), undefined);
});

test('every line with such a number is bad, wherever it falls against the scan windows and blocks', () => {
  // The scan copies 64 KiB windows that overlap by 4 bytes, and looks at 16 bytes a step.
  for (let at = 65_500; at < 65_560; at++) {
    const text = `${'x'.repeat(at - 1)}\n1e400\n2\n`;
    assert.equal(badLines(text), [1], `1e400 at byte ${at}`);
    const run = `${'x'.repeat(at - 1)}\n${'9'.repeat(309)}\n`;
    assert.equal(badLines(run), [1], `309 digits at byte ${at}`);
  }
  // Short lines: one 16-byte block touches several of them.
  assert.equal(badLines('1\n2\n3\n1e400\n5\n6\n'), [3]);
  assert.equal(badLines('1e400\n1e400\n3\n1E+999\n'), [0, 1, 3]);
  assert.equal(badLines('1\r\n-1e400\r\n'), [1]);
});

test('suspects found over a whole buffer mark the same lines in each part of it as a scan of that part', () => {
  // Short lines, so that blocks of 16 bytes begin in one part and reach into the next.
  const lines = ['1', '{"a":1e400}', '2', '3', '1e400', '44', '-1E+999', '5', '"1e400"', '6', '9'.repeat(320), '7', '1e-400', '8'];
  const whole = Buffer.from(`${lines.join('\n')}\n`);
  const ends = [...whole.keys()].filter((i) => whole[i] === 10).map((i) => i + 1);
  const suspects = findSuspects(whole);
  for (const cut of ends.slice(0, -1)) {
    for (const [offset, end] of [
      [0, cut],
      [cut, whole.length],
    ] as const) {
      const part = whole.subarray(offset, end);
      const given = decodeLines(part, suspectsWithin(suspects, offset, part.length));
      const own = decodeLines(part);
      assert.equal([...(given.bad?.keys() ?? [])], [...(own.bad?.keys() ?? [])], `part ${offset}-${end}`);
    }
  }
  // A block that begins before the part reaches its first line: a negative offset.
  assert.equal(suspectsWithin([0, 40], 8, 30), [-8]);
  assert.equal(suspectsWithin([0, 40], 16, 30), [24]);
});

test('near misses are good lines: finite values, strings, negative exponents, long digit strings', () => {
  const lines = ['1e308', '-1.5E+307', '"1e400"', '1e-999', `"${'7'.repeat(500)}"`, `0.${'1'.repeat(400)}`, '{"e400":1}', '[1e99,2E99]'];
  assert.equal(badLines(lines.join('\n') + '\n'), []);
});

test('lines with invalid UTF-8 are checked too, and keep their own error', () => {
  const { bad } = decodeLines(Buffer.concat([Buffer.from('1e400\n'), Buffer.from([0xff, 0x0a]), Buffer.from('2e999\n3\n')]));
  assert.equal([...(bad?.keys() ?? [])].sort(), [0, 1, 2]);
  assert.match(bad!.get(0)!.message, /number out of range at position 0/);
  assert.match(bad!.get(1)!.message, /invalid UTF-8/);
});

test('the scan agrees with JSON.parse on random lines', () => {
  let seed = 17;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const pieces = ['1e400', '-2E+308', '1.8e308', '1e308', '9e-400', '"1e999"', '"a\\"1e999"', '12', 'true', '"x"', '1' + '0'.repeat(320), '5' + '0'.repeat(300)];
  const lines: string[] = [];
  for (let k = 0; k < 3000; k++) {
    const values = Array.from({ length: 1 + random(4) }, () => pieces[random(pieces.length)]!);
    const pad = ' '.repeat(random(20));
    lines.push(random(2) ? `[${pad}${values.join(',')}]` : `{${values.map((value, n) => `"p${n}":${pad}${value}`).join(',')}}`);
  }
  const expected = lines.flatMap((line, k) => (holdsInfinity(JSON.parse(line)) ? [k] : []));
  assert.ok(expected.length > 500 && expected.length < 2900, `${expected.length} of 3000 bad`);
  assert.equal(badLines(lines.join('\n') + '\n'), expected);
});

test.run();

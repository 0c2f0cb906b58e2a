import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeLines } from '../../src/io/decode-lines.js';
import { LineSplitter, type LineChunk } from '../../src/io/split-lines.js';

function collect(splitter: LineSplitter, parts: Buffer[]): LineChunk[] {
  const chunks = parts.map((part) => splitter.push(part)).filter((chunk): chunk is LineChunk => chunk !== undefined);
  const tail = splitter.end();
  return tail ? [...chunks, tail] : chunks;
}

test('lines cut at every byte position come out whole and numbered', () => {
  const text = Buffer.from('{"a":"é"}\n{"b":"日本"}\n\n{"c":3}');
  for (let cut = 0; cut <= text.length; cut++) {
    const chunks = collect(new LineSplitter(), [text.subarray(0, cut), text.subarray(cut)]);
    const all = chunks.flatMap((chunk) => chunk.lines.map((line, k) => `${chunk.firstLine + k}:${line}`));
    assert.equal(all, ['1:{"a":"é"}', '2:{"b":"日本"}', '3:', '4:{"c":3}'], `cut at ${cut}`);
  }
});

test('a line longer than the limit is reported, not held, and the next lines go on', () => {
  const splitter = new LineSplitter({ maxLineBytes: 16 });
  const chunks = collect(splitter, [Buffer.from('{"a":1}\n{"long":"'), Buffer.from('x'.repeat(40)), Buffer.from('"}\n{"b":2}\n')]);
  const all = chunks.flatMap((chunk) => chunk.lines.map((line, k) => [chunk.firstLine + k, chunk.bad?.get(k)?.message ?? line]));
  assert.equal(all, [
    [1, '{"a":1}'],
    [2, 'line longer than 16 bytes'],
    [3, '{"b":2}'],
  ]);
});

test('invalid UTF-8 marks only its own line, with the byte position', () => {
  const decoded = decodeLines(Buffer.concat([Buffer.from('{"a":1}\n{"s":"'), Buffer.from([0xff]), Buffer.from('"}\n{"c":"é"}\n')]));
  assert.equal(decoded.lines.length, 3);
  assert.equal([...(decoded.bad ?? new Map())].map(([k, error]) => [k, error.message, error.stage]), [[1, 'invalid UTF-8 at byte 7', 'decode']]);
  assert.is(decoded.lines[2], '{"c":"é"}');
});

test.run();

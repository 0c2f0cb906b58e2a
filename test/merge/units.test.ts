import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSource } from '../../src/io/open-source.js';
import { LineReader } from '../../src/merge/line-reader.js';
import { MinHeap } from '../../src/core/min-heap.js';
import { compareNatural } from '../../src/merge/natural-compare.js';
import { scratch } from '../shard/op-shell.js';

test('natural order: digit runs compare as numbers', () => {
  const names = ['out.10', 'out.2', 'out.1', 'out.02', 'out.', 'out.1a', 'out.1.b', 'part-9-x', 'part-10', 'a', 'out.100', 'out.0'];
  assert.equal([...names].sort(compareNatural), ['a', 'out.', 'out.0', 'out.1', 'out.1.b', 'out.1a', 'out.02', 'out.2', 'out.10', 'out.100', 'part-9-x', 'part-10']);
  assert.ok(compareNatural('x/out.2.ndjson', 'x/out.10.ndjson') < 0);
  assert.ok(compareNatural('99999999999999999999', '100000000000000000000') < 0, 'beyond 2^53');
  assert.is(compareNatural('a1', 'a1'), 0);
  assert.ok(compareNatural('a01', 'a1') !== 0, 'ties on value are broken, so the order is total');
});

test('MinHeap pops in order, and siftTop after changing the top', () => {
  let seed = 3;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % 1000;
  };
  const heap = new MinHeap<{ v: number }>((a, b) => a.v < b.v);
  const values = Array.from({ length: 500 }, rand);
  for (const v of values) heap.push({ v });
  const top = heap.peek() as { v: number };
  top.v = 2000;
  heap.siftTop();
  const out: number[] = [];
  for (let item = heap.pop(); item; item = heap.pop()) out.push(item.v);
  const sorted = [...values].sort((a, b) => a - b);
  sorted.shift();
  assert.equal(out, [...sorted, 2000]);
  assert.is(heap.size, 0);
});

test('LineReader: reads of 1 to 9 bytes; blanks and BOM skipped, CR kept, last line without newline, line numbers', async () => {
  const work = scratch();
  const file = join(work.dir, 'in.ndjson');
  writeFileSync(file, '\ufeff{"a":1}\n\n  \n{"a":2}\r\n\r\n{"a":3}');
  try {
    for (let size = 1; size <= 9; size++) {
      const reader = new LineReader(openSource(file, size));
      const got: Array<[string, number]> = [];
      for (let line = await reader.read(); line !== undefined; line = reader.take() ?? (await reader.read())) got.push([line.toString(), reader.line]);
      assert.equal(got, [['{"a":1}', 1], ['{"a":2}\r', 4], ['{"a":3}', 6]], `reads of ${size}`);
      assert.ok(reader.exhausted);
    }
  } finally {
    work.remove();
  }
});

test.run();

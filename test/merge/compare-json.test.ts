import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareCodePoints, compareJson } from '../../src/merge/compare-json.js';
import { mergeOptions } from '../../src/merge/merge-options.js';

test("jq's order: null < false < true < numbers < strings < arrays < objects", () => {
  const sorted: unknown[] = [null, false, true, -1e9, -1, 0, 6, 10, 1e21, '', '10', '6', 'Z', 'a', [], [null], [1], [1, 0], [2], {}, { a: 2 }, { a: 1, b: 0 }, { b: 0 }];
  const shuffled = [...sorted].reverse();
  shuffled.push(shuffled.shift());
  assert.equal(shuffled.sort(compareJson), sorted);
  assert.is(compareJson({ a: 1, b: [2] }, { b: [2], a: 1 }), 0, 'key order does not matter');
  assert.is(compareJson(6, 10) < 0, true, '6 before 10: numbers as numbers');
});

test('strings compare by code point, not UTF-16 code unit', () => {
  // U+1F600 is the surrogate pair D83D DE00: by code units it would come before U+E000.
  assert.ok(compareCodePoints('\ue000', '😀') < 0);
  assert.ok(compareCodePoints('\uffff', '😀') < 0);
  assert.ok(compareCodePoints('😀', '😁') < 0);
  assert.ok(compareCodePoints('😀', '😀x') < 0);
  assert.is(compareCodePoints('abc', 'abc'), 0);
  assert.ok(compareCodePoints('ab', 'abc') < 0);
});

test('mergeOptions: the checks run() made, before anything is read', () => {
  const base = { 'round-robin': false, numeric: false, reverse: false };
  assert.equal(mergeOptions(base, [], {}), { inputs: ['-'], output: undefined, mode: 'concat', key: undefined });
  assert.equal(mergeOptions({ ...base, key: 'k', numeric: true, in: ['a'] }, ['b'], {}).key, { field: 'k', numeric: true, reverse: false });
  assert.is(mergeOptions({ ...base, out: 'm-{rank}' }, [], { OP_RANK: '2', OP_WORLD_SIZE: '3' }).output, 'm-2');
  assert.throws(() => mergeOptions({ ...base, key: '' }, [], {}), /--key needs a field name/);
  assert.throws(() => mergeOptions({ ...base, key: 'k', 'round-robin': true }, [], {}), /pick one/);
  assert.throws(() => mergeOptions({ ...base, numeric: true }, [], {}), /--numeric/);
  assert.throws(() => mergeOptions(base, ['--nope'], {}), /Nonexistent flag: --nope/);
});

test.run();

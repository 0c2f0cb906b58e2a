import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringifyDeep } from '../../src/records/stringify-deep.js';

const samples: unknown[] = [
  null, 0, -1.5e-7, 'a"\\\n\u2028é', true, [], {}, [1, 'x', null, [2, [3]]],
  { a: 1, b: undefined, c: () => 1, d: [undefined, () => 2, Symbol('s')], e: { f: NaN, g: Infinity } },
  { date: new Date(0), boxed: [new Number(3), new String('s'), new Boolean(false)] },
  { toJSON: (key: string) => ({ key }) },
  { '': 1, 'k"ey': { nested: { deeper: [{}] } } },
];

test('matches JSON.stringify on assorted values', () => {
  for (const value of samples) assert.is(stringifyDeep(value), JSON.stringify(value), JSON.stringify(value));
  assert.is(stringifyDeep(undefined), undefined);
  assert.is(stringifyDeep(() => 1), undefined);
});

test('handles nesting far past the recursion limit', () => {
  let deep: unknown = 1;
  for (let k = 0; k < 100_000; k++) deep = k % 2 ? [deep] : { k: deep };
  const text = stringifyDeep(deep)!;
  // 50,000 object levels add `{"k":` and `}` (6 characters), 50,000 array levels `[` and `]`.
  assert.is(text.length, 50_000 * 6 + 50_000 * 2 + 1);
  // JSON.parse does not recurse, so the round trip checks the text without a deep compare.
  assert.is(stringifyDeep(JSON.parse(text)), text);
});

test('rejects what JSON.stringify rejects', () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = { back: cycle };
  assert.throws(() => stringifyDeep(cycle), /circular/);
  assert.throws(() => stringifyDeep({ n: 1n }), /BigInt/);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fillRankTemplate, hasRankPlaceholder } from '../../src/io/fill-template.js';

test('fills every {rank} and {world}', () => {
  assert.is(fillRankTemplate('part-{rank}-of-{world}.ndjson', { rank: 3, world: 8 }), 'part-3-of-8.ndjson');
  assert.is(fillRankTemplate('{rank}/{rank}.ndjson', { rank: 0, world: 1 }), '0/0.ndjson');
});

test('leaves other text, other braces and undefined alone', () => {
  assert.is(fillRankTemplate('out.ndjson', { rank: 1, world: 2 }), 'out.ndjson');
  assert.is(fillRankTemplate('a{x}{Rank}.ndjson', { rank: 1, world: 2 }), 'a{x}{Rank}.ndjson');
  assert.is(fillRankTemplate(undefined, { rank: 1, world: 2 }), undefined);
});

test('hasRankPlaceholder', () => {
  assert.ok(hasRankPlaceholder('p-{rank}.ndjson'));
  assert.not.ok(hasRankPlaceholder('p-{world}.ndjson'));
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MISSING_KEY_RANK, hashBytes, hashText, keyText, rankOfKey } from '../../src/core/key-hash.js';

/**
 * Fixed vectors of the documented hash (commands/shard.ts, src/shard/key-hash.ts): FNV-1a
 * 32-bit over the UTF-8 of the value when it is a string, else of its JSON text. The first
 * three are FNV's published vectors; the rest were checked against an independent
 * implementation (Python: h = ((h ^ b) * 0x01000193) & 0xffffffff over s.encode()).
 */
const VECTORS: Array<[value: unknown, bytes: string, hash: number]> = [
  ['', '', 0x811c9dc5],
  ['a', 'a', 0xe40c292c],
  ['foobar', 'foobar', 0xbf9cf968],
  ['user-1', 'user-1', 0xf5537974],
  [42, '42', 0x87e38583],
  ['42', '42', 0x87e38583],
  [1.5, '1.5', 0xe8421739],
  [1e21, '1e+21', 0xb6a7b1f5],
  [null, 'null', 0x77074ba4],
  [true, 'true', 0x4db211e5],
  [{ a: 1 }, '{"a":1}', 0x8b9e4511],
  ['é', 'é', 0x1e9de8c1],
  ['日本', '日本', 0x9f26ee51],
];

test('the hashed text: a string itself, anything else its JSON text', () => {
  for (const [value, bytes] of VECTORS) assert.is(keyText(value), bytes, JSON.stringify(value));
});

test('FNV-1a 32-bit vectors', () => {
  for (const [value, bytes, hash] of VECTORS) {
    assert.is(hashText(keyText(value)), hash, `${JSON.stringify(value)} → 0x${hash.toString(16)}`);
    assert.is(hashBytes(Buffer.from(bytes, 'utf8')), hash, `bytes of ${JSON.stringify(value)}`);
  }
});

test('the rank is the unsigned hash mod world', () => {
  assert.is(rankOfKey({ k: 'a' }, 'k', 3), 0xe40c292c % 3);
  assert.is(rankOfKey({ k: 'a' }, 'k', 7), 0xe40c292c % 7);
  assert.is(rankOfKey({ k: 42 }, 'k', 7), rankOfKey({ k: '42' }, 'k', 7));
  for (const [value, , hash] of VECTORS) assert.is(rankOfKey({ k: value }, 'k', 1000), hash % 1000);
});

test('records without the field, and non-objects, go to rank 0', () => {
  assert.is(MISSING_KEY_RANK, 0);
  for (const record of [{}, { other: 'a' }, [1, 2], 'a', 7, null, true]) assert.is(rankOfKey(record, 'k', 5), 0, JSON.stringify(record));
  // A present null is a key like any other ("null").
  assert.is(rankOfKey({ k: null }, 'k', 1000), 0x77074ba4 % 1000);
});

test('a lone surrogate hashes as U+FFFD (EF BF BD), as TextEncoder encodes it', () => {
  assert.is(hashText('\ud800'), hashBytes(Buffer.from([0xef, 0xbf, 0xbd])));
});

test.run();

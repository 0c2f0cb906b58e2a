import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cutPieces } from '../../src/records/cut-pieces.js';

test('pieces end after a newline, cover every byte once, and keep long lines whole', () => {
  const text = ['{"a":1}', '{"b":"' + 'x'.repeat(30) + '"}', '', '{"c":3}', '{"d":4}'].join('\n') + '\n{"tail":true}';
  const bytes = Buffer.from(text);
  for (const size of [1, 5, 8, 16, 40, 1000]) {
    const pieces = [...cutPieces(bytes, size)];
    assert.is(Buffer.concat(pieces).toString(), text, `size ${size}`);
    for (const piece of pieces.slice(0, -1)) assert.is(piece[piece.length - 1], 10, `size ${size}: a piece ends after a newline`);
    assert.ok(pieces.every((piece) => piece.length > 0));
  }
  assert.is([...cutPieces(Buffer.alloc(0))].length, 0);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/core/errors.js';
import { splitWords } from '../../src/io/split-words.js';

test('blanks separate words; quotes and backslashes keep text as written', () => {
  assert.equal(splitWords('op filter B  --out b.ndjson', '--to'), ['op', 'filter', 'B', '--out', 'b.ndjson']);
  assert.equal(splitWords(`op map '({id: r.id})' "a \\"b\\" \\\\ \\n" x\\ y '' $HOME *`, '--to'), ['op', 'map', '({id: r.id})', 'a "b" \\ \\n', 'x y', '', '$HOME', '*']);
  assert.equal(splitWords(`a'b'"c"d`, '--to'), ['abcd']);
  assert.equal(splitWords('   ', '--to'), []);
});

test('an unclosed quote is a usage error', () => {
  assert.throws(() => splitWords(`a 'b`, '--to'), (error: unknown) => error instanceof UsageError && error.message === `--to: unclosed ' in: a 'b`);
  assert.throws(() => splitWords(`a "b`, '--to'), (error: unknown) => error instanceof UsageError);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../src/core/errors.js';
import type { SharedContext } from '../../src/handler/record-context.js';
import { Batcher } from '../../src/records/batcher.js';
import { RecordRunner, type DeadLetter } from '../../src/records/record-runner.js';

const shared: SharedContext = { command: 'op batch', rank: 0, world: 1, workerId: 0, config: undefined, signal: new AbortController().signal, workdir: undefined, log: () => {} };

function runner(deadLetters?: DeadLetter[]): RecordRunner {
  return new RecordRunner({ kind: 'batch', handler: (records) => records, wantsContext: false, shared, retries: 0, retryDelay: 0, timeout: undefined, idField: undefined, deadLetter: deadLetters && ((entry) => void deadLetters.push(entry)), errorLimit: undefined });
}

test('groups records in the sizes the reader planned; the last batch goes out on flush', () => {
  const batcher = new Batcher(runner(), { withHandler: false, sizes: [2, 2, 1] });
  const out = ['1', '2', '3', '4', '5'].map((text, k) => batcher.add(text, k + 1, k, 'stdin', undefined));
  assert.equal(out, [undefined, '[1,2]\n', undefined, '[3,4]\n', '[5]\n']);
  assert.is(batcher.flush(), undefined);
});

test('a record that does not parse is dead-lettered and still takes its place in the batch', () => {
  const letters: DeadLetter[] = [];
  const batcher = new Batcher(runner(letters), { withHandler: false, sizes: [3] });
  batcher.add('1', 1, 0, 'stdin', undefined);
  batcher.add('{', 2, 1, 'stdin', undefined);
  assert.is(batcher.add('3\r', 3, 2, 'stdin', undefined), '[1,3]\n', 'CRLF: the \\r is no part of the record');
  assert.equal(letters.map((letter) => [letter.line, letter.stage]), [[2, 'parse']]);
});

test('bad bytes are dead-lettered with the stage the reader gave them', () => {
  const letters: DeadLetter[] = [];
  const batcher = new Batcher(runner(letters), { withHandler: true, sizes: [2] });
  batcher.add('x', 1, 0, 'stdin', new InputError('invalid UTF-8 at byte 1', 'decode'));
  const out = batcher.add('2', 2, 1, 'stdin', undefined);
  assert.is(out, '2\n');
  assert.equal(letters.map((letter) => [letter.line, letter.stage, letter.error.message]), [[1, 'decode', 'invalid UTF-8 at byte 1']]);
});

test.run();

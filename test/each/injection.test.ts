import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { makeScratch, removeScratch } from './each-process.js';

/** Values a shell would split, expand, run or read as options. */
const HOSTILE = [
  'a b; touch PWNED',
  '$(touch PWNED)',
  '`touch PWNED`',
  'one\ntouch PWNED\ntwo',
  "'; touch PWNED; '",
  '"$(touch PWNED)"',
  '-rf',
  '--help',
  '*',
  '> PWNED',
  '{.v} {} {#}',
  ' ',
  '',
];

interface Exec {
  argv: string[];
  stdout: string;
  exit: number;
}

/** The words the program received: it prints each followed by NUL. */
const wordsOf = (exec: Exec): string[] => exec.stdout.split('\0').slice(0, -1);

for (const shell of [false, true]) {
  const mode = shell ? 'with --shell' : 'without a shell';
  test(`hostile values reach the program as single argv words, ${mode}; no file appears`, async () => {
    const dir = makeScratch(`inject-${shell}`);
    const records = HOSTILE.map((v, k) => ({ k, v }));
    const command = shell ? ['--shell', '--', 'printf "%s\\0" "$@"', '{.v}', 'x{.v}y'] : ['--', 'printf', '%s\\0', '{.v}', 'x{.v}y'];
    const { stdout, stderr, status } = await runOp(['each', '-j', '4', ...command], { input: ndjson(records), cwd: dir });
    assert.is(status, 0, stderr);
    const out = lines(stdout) as Array<{ k: number; v: string; exec: Exec }>;
    assert.is(out.length, HOSTILE.length);
    for (const record of out) {
      assert.equal(wordsOf(record.exec), [record.v, `x${record.v}y`], JSON.stringify(record.v));
      assert.equal(record.exec.argv.slice(-2), [record.v, `x${record.v}y`]);
    }
    assert.is(existsSync(join(dir, 'PWNED')), false, 'no file was created');
    removeScratch(dir);
  });

  test(`the whole record and a lone surrogate are one word each, ${mode}`, async () => {
    const dir = makeScratch(`inject-record-${shell}`);
    const record = { v: 'bad \udcff byte', nl: 'a\nb', cmd: '$(touch PWNED)' };
    const command = shell ? ['--shell', '--', 'printf "%s\\0" "$@"', '{}', '{.v}'] : ['--', 'printf', '%s\\0', '{}', '{.v}'];
    // JSON.stringify writes the lone surrogate as the escape \udcff, which the engine reads back.
    const { stdout, stderr, status } = await runOp(['each', ...command], { input: JSON.stringify(record) + '\n', cwd: dir });
    assert.is(status, 0, stderr);
    const [out] = lines(stdout) as Array<{ exec: Exec }>;
    const words = wordsOf(out!.exec);
    assert.is(words.length, 2);
    assert.equal(JSON.parse(words[0]!.replace('\ufffd', '\\udcff')), record);
    // A lone surrogate cannot be encoded as UTF-8: the program gets U+FFFD in its place, still one word.
    assert.is(words[1], 'bad \ufffd byte');
    assert.is(existsSync(join(dir, 'PWNED')), false);
    removeScratch(dir);
  });
}

test('an input line that is not UTF-8 runs nothing and is dead-lettered; bytes a job prints that are not UTF-8 are replaced and marked', async () => {
  const dir = makeScratch('utf8');
  const errors = join(dir, 'errors.ndjson');
  const input = Buffer.concat([Buffer.from('{"v":"ok"}\n{"v":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
  const { stdout, stderr, status } = await runOp(['each', '--errors', errors, '--', 'printf', 'a\\377b'], { input, cwd: dir });
  assert.is(status, 3, stderr);
  const out = lines(stdout) as Array<{ exec: { stdout: string; invalidUtf8?: boolean } }>;
  assert.is(out.length, 1);
  assert.is(out[0]!.exec.stdout, 'a\ufffdb');
  assert.is(out[0]!.exec.invalidUtf8, true);
  const dead = readFileSync(errors, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { line: number; stage: string });
  assert.equal(dead.map((entry) => [entry.line, entry.stage]), [[2, 'decode']]);
  removeScratch(dir);
});

test('a NUL in a value fails that record without starting anything', async () => {
  const { stdout, status } = await runOp(['each', '--errors', '/dev/stdout', '--', 'printf', '%s', '{.v}'], { input: '{"v":"a\\u0000b"}\n' });
  assert.is(status, 3);
  const [entry] = lines(stdout) as Array<{ error: { message: string } }>;
  assert.match(entry!.error.message, /cannot run printf/);
});

test.run();

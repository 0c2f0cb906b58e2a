import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runProcess } from './helpers/run-op.js';

/** tsc, with the strict options of the project's own tsconfig, on one file of fixtures/types. */
function typeCheck(file: string) {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const options = ['--noEmit', '--strict', '--exactOptionalPropertyTypes', 'false', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck'];
  return runProcess(process.execPath, [tsc, ...options, join(ROOT, 'fixtures/types', file)]);
}

test('tsc accepts handlers typed with their config', async () => {
  const result = await typeCheck('handler-types-accept.ts');
  assert.is(result.stdout, '');
  assert.is(result.status, 0);
});

test('tsc rejects exactly the marked mistakes', async () => {
  const file = 'handler-types-reject.ts';
  const result = await typeCheck(file);
  assert.is(result.status, 2, 'tsc fails');
  const marked = readFileSync(join(ROOT, 'fixtures/types', file), 'utf8')
    .split('\n')
    .flatMap((line, n) => (line.endsWith('// rejected') ? [n + 1] : []));
  const reported = [...new Set([...result.stdout.matchAll(/handler-types-reject\.ts\((\d+),\d+\): error TS\d+/g)].map((match) => Number(match[1])))];
  assert.ok(marked.length >= 5);
  assert.equal(reported, marked);
});

test.run();

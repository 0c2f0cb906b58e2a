import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runOp } from './helpers/run-op.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

test('op --version and -v print the name, version, platform and node', async () => {
  for (const flag of ['--version', '-v']) {
    const result = await runOp([flag]);
    assert.is(result.status, 0);
    assert.is(result.stdout, `opkit/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
  }
});

test('op --help lists every command', async () => {
  const result = await runOp(['--help']);
  assert.is(result.status, 0);
  for (const command of ['map', 'filter', 'slice', 'batch', 'shard', 'merge', 'watch']) assert.match(result.stdout, new RegExp(`\\n  ${command}\\s`));
});

test('an unknown command is a usage error', async () => {
  const result = await runOp(['nope']);
  assert.is(result.status, 2);
  assert.match(result.stderr, /nope/);
});

test.run();

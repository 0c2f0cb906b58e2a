import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runOp, runProcess } from './helpers/run-op.js';

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
  for (const command of ['map', 'filter', 'slice', 'batch', 'shard', 'merge', 'watch', 'each']) assert.match(result.stdout, new RegExp(`\\n  ${command}\\s`));
});

test('an unknown command is a usage error', async () => {
  const result = await runOp(['nope']);
  assert.is(result.status, 2);
  assert.match(result.stderr, /nope/);
});

test('the package ships everything the installed CLI loads', async () => {
  const result = await runProcess('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  assert.is(result.status, 0, result.stderr);
  const [packed] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
  const paths = new Set<string>((packed?.files ?? []).map((file) => file.path));
  const needed = ['bin/run.js', 'dist/op.mjs', 'oclif.manifest.json', 'dist/src/index.d.ts', 'dist/src/pool/pool-worker.js', 'dist/src/cli/run-handler-command.js', 'man/op.1'];
  for (const path of needed) assert.ok(paths.has(path), `${path} is in the package`);
  const { man } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
  for (const page of man) assert.ok(paths.has(page.replace(/^\.\//, '')), `${page} is in the package`);
  assert.not.ok([...paths].some((path) => path.startsWith('dist/test/')), 'no test files');
});

test.run();

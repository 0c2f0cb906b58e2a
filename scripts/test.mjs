#!/usr/bin/env node
// Runs the uvu suites (compiled to dist/test) and closes with one line `N passed, N failed`.
// A run that executes no test fails: an empty pass is indistinguishable from a broken suite.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2];
// An optional argument narrows the run to test files whose name matches it.
const pattern = filter ? `(${filter})[^/]*\\.test\\.js$` : '\\.test\\.js$';
const child = spawn(process.execPath, [join(root, 'node_modules/uvu/bin.js'), 'dist/test', pattern, '--no-color'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: withoutColor(process.env),
});

/**
 * FORCE_COLOR=0 alone (and uvu's --no-color, which otherwise sets FORCE_COLOR=1): Node 24
 * warns on stderr in every process that has both FORCE_COLOR and NO_COLOR, which would
 * land in the output the tests compare.
 */
function withoutColor(env) {
  const { NO_COLOR: _noColor, ...rest } = env;
  return { ...rest, FORCE_COLOR: '0' };
}

let output = '';
child.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const failed = Math.max(total - passed - count('Skipped'), code === 0 ? 0 : 1);
  console.log(`\n${passed} passed, ${failed} failed`);
  if (total === 0) console.error('no test ran');
  process.exit(code !== 0 || failed > 0 || total === 0 ? 1 : 0);
});

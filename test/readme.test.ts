import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, ROOT, runOp, runProcess } from './helpers/run-op.js';

/**
 * The README's command reference, shared flags, exit statuses and launcher variables are
 * generated from the commands' metadata (scripts/gen-readme.mjs), like the man pages.
 */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { id: string; hidden?: boolean; summary: string; examples?: Array<{ command: string }> }>;
};
const commands = Object.values(manifest.commands).filter((command) => !command.hidden);

test('README.md matches what gen-readme.mjs would write', async () => {
  const result = await runProcess(process.execPath, [join(ROOT, 'scripts/gen-readme.mjs'), '--check']);
  assert.is(result.status, 0, `stale README; run \`npm run build && npm run man\`:\n${result.stderr}`);
});

test('a README whose generated part was edited by hand is stale', async () => {
  const copy = join(tmpdir(), `opkit-readme-${process.pid}.md`);
  writeFileSync(copy, readme.replace('Transform each record', 'Change each record'));
  const result = await runProcess(process.execPath, [join(ROOT, 'scripts/gen-readme.mjs'), '--check', '--readme', copy]);
  assert.is(result.status, 1);
  assert.match(result.stderr, 'out of date');
});

test('the README has each command, its summary and its examples', () => {
  for (const command of commands) {
    assert.ok(readme.includes(`### \`op ${command.id.replace(/:/g, " ")}\``), command.id);
    assert.ok(readme.includes(command.summary), `${command.id} summary`);
    for (const example of command.examples ?? []) assert.ok(readme.includes(example.command.replace(/^\$ /, '')), example.command);
  }
  assert.not.match(readme, 'fetchJson');
});

test('every help example is a $ line', async () => {
  for (const command of commands) {
    const help = (await runOp([command.id, '--help'])).stdout;
    const examples = help.slice(help.indexOf('\nEXAMPLES\n'));
    // Each example is its description, a blank line, then the command indented by 4.
    const lines = examples.split('\n').filter((line) => /^ {4}\S/.test(line));
    assert.ok(lines.length > 0, command.id);
    for (const line of lines) assert.match(line, /^ {4}\$ /, `${command.id}: ${line}`);
  }
});

test('the help examples that bring their own input run as they are', async () => {
  const bin = join(tmpdir(), `opkit-readme-bin-${process.pid}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'op'), `#!/bin/sh\nexec "${process.execPath}" "${OP}" "$@"\n`);
  chmodSync(join(bin, 'op'), 0o755);
  let ran = 0;
  for (const command of commands) {
    for (const example of command.examples ?? []) {
      const line = example.command.replace(/^\$ /, '');
      if (!/^(echo|printf) /.test(line)) continue;
      const result = await runProcess('/bin/sh', ['-c', line], { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
      assert.is(result.status, 0, `${line}\n${result.stderr}`);
      assert.ok(result.stdout.length > 0, line);
      ran++;
    }
  }
  assert.ok(ran >= 3, `${ran} examples ran`);
});

test.run();

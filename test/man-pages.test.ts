import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runProcess } from './helpers/run-op.js';

/**
 * The man pages are generated from the commands' metadata (scripts/gen-man.mjs); these
 * tests fail when a command or flag changed and `npm run man` was not run afterwards.
 */
interface Manifest {
  commands: Record<string, { id: string; hidden?: boolean }>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man?: string[] };
// Every command has a page, op help included (hidden only from `op --help`).
const ids = Object.values(manifest.commands).map((command) => command.id);

test('man/ and package.json "man" match what gen-man.mjs would write', async () => {
  const result = await runProcess(process.execPath, [join(ROOT, 'scripts/gen-man.mjs'), '--check']);
  assert.is(result.status, 0, `stale man pages; run \`npm run build && npm run man\`:\n${result.stderr}`);
});

test('every command has a page, listed in package.json', () => {
  assert.ok(ids.length > 0, 'the manifest lists no command');
  const listed = new Set(pkg.man ?? []);
  for (const page of ['man/op.1', ...ids.map((id) => `man/op-${id.replace(/[:\s]+/g, '-')}.1`)]) {
    assert.ok(existsSync(join(ROOT, page)), `${page} is missing`);
    assert.ok(listed.has(page), `${page} is not in package.json "man"`);
  }
});

test('op.1 lists every command, each page names itself', () => {
  const overview = readFileSync(join(ROOT, 'man/op.1'), 'utf8');
  for (const id of ids) {
    const name = `op-${id.replace(/[:\s]+/g, '-')}`;
    assert.ok(overview.includes(`\\fB${name.replace(/-/g, '\\-')}\\fR(1)`), `op.1 does not list ${name}`);
    const page = readFileSync(join(ROOT, `man/${name}.1`), 'utf8');
    assert.match(page, `.TH ${name.toUpperCase().replace(/-/g, '\\-')} 1 `);
    assert.match(page, `.SH NAME\n${name.replace(/-/g, '\\-')} \\- `);
  }
});

test('pages are valid roff: no unescaped control lines from text', () => {
  for (const id of ids) {
    const page = readFileSync(join(ROOT, `man/op-${id.replace(/[:\s]+/g, '-')}.1`), 'utf8');
    for (const line of page.split('\n')) {
      if (line.startsWith("'")) assert.unreachable(`a text line starts with ': ${line}`);
      if (line.startsWith('.') && !/^\.(\\"|[A-Z]{1,2}\b|nh$|ad l$|nf$|fi$|br$)/.test(line)) assert.unreachable(`unknown request: ${line}`);
    }
  }
});

test.run();

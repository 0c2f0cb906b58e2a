import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, lines, runOp, runProcess } from '../helpers/run-op.js';

test('op map … | head -1 exits 0, says nothing, and stops reading', async () => {
  const script = `yes '{"a":1}' | "${process.execPath}" "${OP}" map r | head -1; echo "status \${PIPESTATUS[0]} \${PIPESTATUS[1]}" >&2`;
  const result = await runProcess('/bin/bash', ['-c', script], { timeoutMs: 30_000 });
  assert.is(result.stdout, '{"a":1}\n');
  // yes ends by SIGPIPE (141) only because op stopped reading; op itself exits 0 quietly.
  assert.is(result.stderr, 'status 141 0\n');
});

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${signal}: stop reading, finish what is in flight, exit ${code} with whole lines`, async () => {
    const child = spawn(process.execPath, [OP, 'map', 'async (r) => { await new Promise(ok => setTimeout(ok, 20)); return {...r, done: true} }', '-c', '4'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    // Feed records and keep stdin open, as a live producer would.
    for (let id = 0; id < 40; id++) child.stdin.write(JSON.stringify({ id, pad: 'x'.repeat(100) }) + '\n');
    while (out.split('\n').length < 5) await new Promise((ok) => setTimeout(ok, 10));
    child.kill(signal);
    const [status] = (await once(child, 'close')) as [number | null];
    assert.is(status, code, err);
    assert.ok(out.endsWith('\n'), 'no torn last line');
    const records = lines(out) as Array<{ id: number; done: boolean }>;
    assert.ok(records.every((r) => r.done));
    assert.equal(records.map((r) => r.id), [...Array(records.length).keys()]);
    assert.is(err, '');
  });
}

test('a 200 MB single line is processed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-big-'));
  const file = join(dir, 'big.ndjson');
  const stream = createWriteStream(file);
  stream.write('{"a":1}\n{"s":"');
  const block = 'x'.repeat(1 << 20);
  for (let k = 0; k < 200; k++) if (!stream.write(block)) await once(stream, 'drain');
  stream.end('"}\n{"a":3}\n');
  await once(stream, 'finish');
  const result = await runOp(['map', 'r.s ? r.s.length : r.a', '--in', file], { timeoutMs: 120_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, `1\n${200 * (1 << 20)}\n3\n`);
});

test('10,000-deep nesting is processed', async () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  const result = await runOp(['map', 'r'], { input: `${deep}\n{"a":1}\n` });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, `${deep}\n{"a":1}\n`);
});

test('--progress writes a live line to stderr, with a percentage when the input size is known', async () => {
  const result = await runOp(['map', 'r', '--progress'], { input: '1\n2\n3\n' });
  assert.match(result.stderr, /op map: 3 records/);
  assert.not.match(result.stderr, /%/, 'a pipe has no known size');
  const dir = mkdtempSync(join(tmpdir(), 'opkit-progress-'));
  writeFileSync(join(dir, 'in.ndjson'), '1\n2\n3\n');
  const sized = await runOp(['map', 'r', '--progress', '--in', join(dir, 'in.ndjson')]);
  rmSync(dir, { recursive: true, force: true });
  assert.match(sized.stderr, /op map: 3 records {2}\d+\/s {2}100%/);
});

test('--workdir: one directory per record, removed after success, kept after failure', async () => {
  const root = mkdtempSync(join(tmpdir(), 'opkit-work-'));
  const handler = join(process.cwd(), 'fixtures/handlers/use-workdir.mjs');
  const input = '{"name":"a"}\n{"name":"../../escape"}\n{"name":"b","fail":true}\n';
  const result = await runOp(['map', handler, '--workdir', root, '--id', 'name', '--errors', '/dev/null'], { input });
  assert.is(result.status, 3, result.stderr);
  const made = lines(result.stdout) as Array<{ dir: string }>;
  assert.is(made.length, 2);
  for (const { dir } of made) assert.ok(dir.startsWith(root + '/'), `inside the workdir: ${dir}`);
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(root), ['b']);
  const kept = await runOp(['map', handler, '--workdir', root, '--id', 'name', '--keep-workdirs'], { input: '{"name":"../../escape"}\n' });
  assert.is(kept.status, 0, kept.stderr);
  assert.equal(readdirSync(root).sort(), ['%2E%2E%2F%2E%2E%2Fescape', 'b']);
  rmSync(root, { recursive: true, force: true });
});

test('setup errors stop the run before any record; teardown runs after the last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-life-'));
  writeFileSync(join(dir, 'bad-setup.mjs'), 'export function setup() { throw new Error("no model") }\nexport default (r) => r\n');
  writeFileSync(join(dir, 'life.mjs'), 'let n = 0\nexport function setup(ctx) { ctx.log("setup", ctx.config.k) }\nexport default (r) => (n++, r)\nexport function teardown(ctx) { ctx.log("teardown after", n) }\n');
  const bad = await runOp(['map', join(dir, 'bad-setup.mjs')], { input: '1\n' });
  assert.is(bad.status, 1);
  assert.is(bad.stdout, '');
  assert.is(bad.stderr, 'op map: setup failed: Error: no model\n');
  const life = await runOp(['map', join(dir, 'life.mjs'), '--config', '{"k":7}'], { input: '1\n2\n' });
  assert.is(life.stderr, 'op map: setup 7\nop map: teardown after 2\n');
  rmSync(dir, { recursive: true, force: true });
});

test.run();

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, OP, lines, ndjson, runOp } from '../helpers/run-op.js';

const N = 3000;
const people = ndjson(Array.from({ length: N }, (_, id) => ({ id, name: `n${id}`, score: id / N })));
const handler = (name: string): string => join(FIXTURES, 'handlers', name);

interface Letter {
  line: number;
  id: unknown;
  stage: string;
  error: { name: string; message: string };
}

test('output is byte-identical to the inline run, in order; --unordered has the same lines', async () => {
  const inline = await runOp(['map', '({...r, s2: r.score * 2, i})'], { input: people });
  for (const workers of ['1', '2', '3']) {
    const pooled = await runOp(['map', '({...r, s2: r.score * 2, i})', '-w', workers], { input: people, env: { OP_CHUNK_BYTES: '4096' } });
    assert.is(pooled.status, 0, pooled.stderr);
    assert.is(pooled.stdout, inline.stdout, `-w ${workers}`);
  }
  const unordered = await runOp(['map', '({...r, s2: r.score * 2, i})', '-w', '2', '--unordered'], { input: people, env: { OP_CHUNK_BYTES: '4096' } });
  assert.equal(unordered.stdout.split('\n').sort(), inline.stdout.split('\n').sort());
});

test('a large task runs in pieces: same output, and the same error lines, as inline', async () => {
  // ~700 KB in one task: several 112 KiB pieces, with blank lines and CRLF across their edges.
  const rows = Array.from({ length: 6000 }, (_, id) => JSON.stringify({ id, pad: 'p'.repeat(id % 200) }) + (id % 7 === 0 ? '\r\n' : '\n') + (id % 50 === 0 ? '\n' : ''));
  rows[4321] = '{"broken":\n';
  const input = '\ufeff' + rows.join('');
  const args = ['map', '({id: r.id, line: ctx.line, i})', '--errors', '/dev/stderr', '--quiet'];
  const inline = await runOp(args, { input });
  const pooled = await runOp([...args, '-w', '2'], { input });
  assert.is(pooled.status, 3, pooled.stderr);
  assert.is(pooled.stdout, inline.stdout);
  assert.is(pooled.stderr, inline.stderr);
  assert.match(inline.stderr, /"stage":"parse"/);
});

test('filter and slice run in workers too; ctx.workerId tells workers apart', async () => {
  const filtered = await runOp(['filter', 'r.id % 3 === 0', '-w', '2'], { input: people, env: { OP_CHUNK_BYTES: '4096' } });
  assert.is(lines(filtered.stdout).length, N / 3);
  const sliced = await runOp(['slice', '[r.id, ctx.workerId]', '-w', '2'], { input: people, env: { OP_CHUNK_BYTES: '4096' } });
  const values = lines(sliced.stdout) as number[];
  assert.equal(values.filter((_, k) => k % 2 === 0), [...Array(N).keys()]);
  assert.equal([...new Set(values.filter((_, k) => k % 2 === 1))].sort(), [1, 2]);
});

test('errors carry the true input line numbers; --errors, --retries, --stats and --concurrency work', async () => {
  const input = people + '{"bad":\n' + ndjson([{ id: N + 1 }]);
  const dir = mkdtempSync(join(tmpdir(), 'opkit-w-'));
  const errors = join(dir, 'errors.ndjson');
  const result = await runOp(
    ['map', handler('flaky.mjs'), '-w', '2', '-c', '4', '--retries', '1', '--retry-delay', '0', '--errors', errors, '--stats'],
    { input, env: { OP_CHUNK_BYTES: '8192' } },
  );
  assert.is(result.status, 3, result.stderr);
  const letters = lines(readFileSync(errors, 'utf8')) as Letter[];
  assert.equal(letters.map((e) => [e.line, e.stage]), [[N + 1, 'parse']]);
  const stats = JSON.parse(result.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal([stats.in, stats.out, stats.errors, stats.retries], [N + 2, N + 1, 1, Math.ceil(N / 3)]);
  rmSync(dir, { recursive: true, force: true });
});

test('without --errors a failure stops the run at the right line, with everything before it written', async () => {
  const input = ndjson(Array.from({ length: 500 }, (_, id) => ({ id }))) + 'nope\n' + ndjson([{ id: 501 }]);
  const result = await runOp(['map', 'r.id', '-w', '2'], { input, env: { OP_CHUNK_BYTES: '1024' } });
  assert.is(result.status, 1);
  assert.equal(lines(result.stdout), [...Array(500).keys()]);
  assert.match(result.stderr, /^op map: stdin:501: SyntaxError: /);
});

for (const [name, file, guilty] of [
  ['calls process.exit()', 'exits.mjs', 13],
  ['throws outside a record', 'throws-outside.mjs', 21],
] as const) {
  test(`a worker that ${name} is replaced; only the guilty record is dead-lettered`, async () => {
    const input = ndjson(Array.from({ length: 60 }, (_, id) => ({ id })));
    const result = await runOp(['map', handler(file), '-w', '2', '--errors', '/dev/stderr', '--quiet'], { input, env: { OP_CHUNK_BYTES: '256' } });
    assert.is(result.status, 3, result.stderr);
    const ids = (lines(result.stdout) as Array<{ id: number }>).map((r) => r.id);
    assert.equal(ids, [...Array(60).keys()].filter((id) => id !== guilty));
    const letters = lines(result.stderr) as Letter[];
    assert.is(letters.length, 1);
    assert.is(letters[0]!.line, guilty + 1);
  });
  test(`without --errors, a worker that ${name} fails the run with exit 1`, async () => {
    const input = ndjson(Array.from({ length: 60 }, (_, id) => ({ id })));
    const result = await runOp(['map', handler(file), '-w', '2'], { input, env: { OP_CHUNK_BYTES: '256' } });
    assert.is(result.status, 1);
    assert.match(result.stderr, new RegExp(`^op map: stdin:${guilty + 1}: `));
    assert.equal((lines(result.stdout) as Array<{ id: number }>).map((r) => r.id), [...Array(guilty).keys()]);
  });
}

test('a record that loops forever is cut by --timeout; its worker is replaced and the rest continue', async () => {
  const input = ndjson(Array.from({ length: 40 }, (_, id) => ({ id })));
  const result = await runOp(['map', handler('spins.mjs'), '-w', '2', '--timeout', '300', '--errors', '/dev/stderr', '--quiet'], {
    input,
    env: { OP_CHUNK_BYTES: '256' },
  });
  assert.is(result.status, 3, result.stderr);
  assert.equal((lines(result.stdout) as Array<{ id: number }>).map((r) => r.id), [...Array(40).keys()].filter((id) => id !== 7));
  const letters = lines(result.stderr) as Letter[];
  assert.equal(letters.map((e) => [e.line, e.error.name]), [[8, 'TimeoutError']]);
});

test('--max-errors stops a worker run (at the chunk holding the Nth failure), exit 1', async () => {
  const input = ndjson(Array.from({ length: 2000 }, (_, id) => ({ id })));
  const result = await runOp(['map', 'r.id % 100 === 5 ? r.x.y : r.id', '-w', '2', '--errors', '/dev/null', '--max-errors', '3', '--stats'], {
    input,
    env: { OP_CHUNK_BYTES: '512' },
  });
  assert.is(result.status, 1);
  assert.match(result.stderr, /stopped after 3 failed records \(--max-errors 3\)/);
  const out = lines(result.stdout) as number[];
  // Everything up to the third failure (id 205) is written, and the run stops soon after it.
  assert.equal(out.slice(0, 200), [...Array(206).keys()].filter((id) => id % 100 !== 5).slice(0, 200));
  assert.ok(out.length < 1000, `stopped early: ${out.length} records written`);
});

test('--workdir and --progress work with workers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'opkit-wd-'));
  const input = '{"name":"a"}\n{"name":"b","fail":true}\n{"name":"c"}\n';
  const result = await runOp(['map', handler('use-workdir.mjs'), '-w', '2', '--workdir', root, '--id', 'name', '--errors', '/dev/null', '--progress'], { input });
  assert.is(result.status, 3, result.stderr);
  assert.equal((lines(result.stdout) as Array<{ name: string }>).map((r) => r.name), ['a', 'c']);
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(root), ['b'], 'the failed record keeps its workdir');
  assert.match(result.stderr, /op map: 3 records/);
  rmSync(root, { recursive: true, force: true });
});

test('a teardown that never finishes cannot hang the run', async () => {
  const started = Date.now();
  const result = await runOp(['map', handler('stuck-teardown.mjs'), '-w', '2'], { input: '{"a":1}\n', timeoutMs: 30_000 });
  assert.is(result.stdout, '{"a":1}\n');
  assert.is(result.status, 1);
  assert.match(result.stderr, /^op map: teardown failed: Error: did not finish within 10 s\n/);
  assert.ok(Date.now() - started < 20_000);
});

test('a teardown that throws is one line, the same in threads as inline, without a stack trace', async () => {
  for (const extra of [[], ['-w', '2']]) {
    const result = await runOp(['map', handler('throws-teardown.mjs'), ...extra], { input: '{"a":1}\n' });
    assert.is(result.stdout, '{"a":1}\n', extra.join(' '));
    assert.is(result.status, 1, extra.join(' '));
    assert.is(result.stderr, 'op map: teardown failed: Error: index file gone\n', extra.join(' '));
  }
});

test('-w beyond the bound is capped, said once on stderr, and the run is whole', async () => {
  const input = ndjson(Array.from({ length: 50 }, (_, id) => ({ id })));
  for (const workers of ['5000', '1000']) {
    const result = await runOp(['map', 'r', '-w', workers], { input, timeoutMs: 60_000 });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, input);
    const said = result.stderr.split('\n').filter((line) => line !== '');
    assert.is(said.length, 1, result.stderr);
    assert.match(said[0]!, new RegExp(`^op map: -w ${workers} capped to \\d+ \\(`));
  }
  const inBound = await runOp(['map', 'r', '-w', '2'], { input });
  assert.is(inBound.stderr, '');
});

test('--max-errors with workers: one task holding every failure stops at N plus those in flight', async () => {
  // 50,000 invalid lines, all in the first tasks: at most 2 N - 1 are dead-lettered (see --max-errors).
  const input = 'x\n'.repeat(50_000);
  const dir = mkdtempSync(join(tmpdir(), 'opkit-maxerr-'));
  const errors = join(dir, 'errors.ndjson');
  const result = await runOp(['map', 'r', '-w', '2', '--errors', errors, '--max-errors', '10', '--stats'], { input });
  assert.is(result.status, 1, result.stderr);
  const letters = readFileSync(errors, 'utf8').split('\n').filter((line) => line !== '');
  rmSync(dir, { recursive: true, force: true });
  assert.ok(letters.length >= 10 && letters.length < 20, `${letters.length} dead letters`);
  const stats = JSON.parse(result.stderr.split('\n').find((line) => line.startsWith('{"in"'))!) as { in: number; out: number; dropped: number; errors: number };
  assert.is(stats.errors, letters.length);
  assert.is(stats.in, stats.out + stats.dropped + stats.errors);
});

test('a module that fails to load is a usage error before any input is read', async () => {
  const result = await runOp(['map', handler('bad-syntax.mjs'), '-w', '2'], { input: '{"a":1}\n' });
  assert.is(result.status, 2);
  assert.match(result.stderr, /^op map: cannot load handler module .*bad-syntax\.mjs: SyntaxError/);
});

test('a setup that fails in the workers stops the run with exit 1 and no output', async () => {
  const result = await runOp(['map', handler('bad-setup.mjs'), '-w', '2'], { input: '{"a":1}\n' });
  assert.is(result.status, 1);
  assert.is(result.stdout, '');
  assert.is(result.stderr, 'op map: setup failed: Error: model file missing\n');
});

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${signal} drains the workers, runs teardown, exits ${code} with whole lines`, async () => {
    const child = spawn(process.execPath, [OP, 'map', handler('enrich.ts'), '-w', '2'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OP_CHUNK_BYTES: '512' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const person = (id: number): string => JSON.stringify({ id, name: 'Ada Lovelace', born: 1815, score: 0.5 }) + '\n';
    for (let id = 0; id < 50; id++) child.stdin.write(person(id));
    while (out.split('\n').length < 10) await new Promise((ok) => setTimeout(ok, 10));
    child.kill(signal);
    const [status] = (await once(child, 'close')) as [number | null];
    assert.is(status, code, err);
    assert.ok(out.endsWith('\n'));
    assert.equal((lines(out) as Array<{ id: number }>).map((r) => r.id), [...Array(lines(out).length).keys()]);
    assert.is(err.match(/teardown/g)?.length, 2, err);
  });
}

test.run();

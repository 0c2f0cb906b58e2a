import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, lines, ndjson, runOp } from '../helpers/run-op.js';

// @ts-expect-error: a plain .mjs fixture, imported for its outcome() rule.
const { outcome } = (await import('../../../fixtures/handlers/chaos.mjs')) as { outcome: (id: number) => string };

const N = 5000;
const input = ndjson(Array.from({ length: N }, (_, id) => ({ id })));
const chaos = join(FIXTURES, 'handlers/chaos.mjs');

interface StatsLine {
  in: number;
  out: number;
  dropped: number;
  errors: number;
  retries: number;
}

function statsOf(stderr: string): StatsLine {
  const line = stderr.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as StatsLine;
}

for (const flags of [['-c', '1'], ['-c', '16'], ['-c', '16', '--unordered'], ['-c', '4', '--retries', '2', '--retry-delay', '0']]) {
  test(`records in = out + dropped + dead-lettered over ${N} records (${flags.join(' ')})`, async () => {
    const errors = join(tmpdir(), `opkit-acct-${process.pid}-${flags.join('')}.ndjson`);
    const result = await runOp(['map', chaos, '--id', 'id', '--errors', errors, '--stats', ...flags], { input });
    assert.is(result.status, 3, result.stderr);
    const stats = statsOf(result.stderr);
    const out = (lines(result.stdout) as Array<{ id: number }>).map((r) => r.id);
    const failed = (lines(readFileSync(errors, 'utf8')) as Array<{ id: number; line: number; stage: string }>).map((e) => e.id);
    rmSync(errors, { force: true });
    assert.is(stats.in, N);
    assert.is(stats.in, stats.out + stats.dropped + stats.errors);
    assert.is(out.length, stats.out);
    assert.is(failed.length, stats.errors);
    const expectKept = [...Array(N).keys()].filter((id) => outcome(id) === 'keep');
    const expectFailed = [...Array(N).keys()].filter((id) => outcome(id) === 'throw' || outcome(id) === 'reject');
    assert.is(stats.dropped, N - expectKept.length - expectFailed.length);
    // Every record is accounted for exactly once, and in input order unless --unordered.
    assert.equal([...out].sort((a, b) => a - b), expectKept);
    assert.equal([...failed].sort((a, b) => a - b), expectFailed);
    if (!flags.includes('--unordered')) assert.equal(out, expectKept);
    if (flags.includes('--retries')) assert.is(stats.retries, expectFailed.length * 2);
  });
}

test('filter accounting: kept + dropped + dead-lettered = in', async () => {
  const result = await runOp(['filter', 'async (r) => { if (r.id % 7 === 3) throw new Error("x"); return r.id % 2 }', '-c', '8', '--errors', '/dev/null', '--stats'], { input });
  const stats = statsOf(result.stderr);
  assert.is(result.status, 3);
  assert.is(stats.in, N);
  assert.is(stats.out + stats.dropped + stats.errors, N);
  assert.is(lines(result.stdout).length, stats.out);
});

test('without --errors the first failure stops the run with everything before it written', async () => {
  const result = await runOp(['map', chaos, '-c', '16'], { input });
  assert.is(result.status, 1);
  const firstBad = [...Array(N).keys()].find((id) => outcome(id) === 'throw' || outcome(id) === 'reject')!;
  const expected = [...Array(firstBad).keys()].filter((id) => outcome(id) === 'keep');
  assert.equal((lines(result.stdout) as Array<{ id: number }>).map((r) => r.id), expected);
  assert.match(result.stderr, new RegExp(`^op map: stdin:${firstBad + 1}: Error: (sync|async) failure ${firstBad}\\n`));
  assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
});

test.run();

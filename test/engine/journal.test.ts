import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, OP, ndjson, runOp } from '../helpers/run-op.js';
import { countLines, until } from '../helpers/poll-files.js';

const dir = mkdtempSync(join(tmpdir(), 'opkit-journal-'));
const slow = join(FIXTURES, 'handlers/journal-slow.mjs');
const N = 2000;
const CONCURRENCY = 8;
/**
 * Records one kill may repeat beyond the calls in flight: the finished records of the
 * chunks whose results had not arrived, two of about 20 ms of work (~80 of these records) each.
 */
const CHUNK_SLACK = 160;
const input = ndjson(Array.from({ length: N }, (_, k) => ({ n: k + 1, pad: 'x'.repeat(20) })));
const inputFile = join(dir, 'input.ndjson');
writeFileSync(inputFile, input);

/** Starts op, waits until the handler was called `calls` times in all, then kill -9. */
async function killAfter(args: string[], env: NodeJS.ProcessEnv, callsFile: string, calls: number): Promise<void> {
  const child = spawn(process.execPath, [OP, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let done = false;
  void exited.then(() => (done = true));
  await until(() => done || countLines(callsFile) >= calls, `${calls} handler calls`);
  child.kill('SIGKILL');
  await exited;
}

for (const workers of [0, 2]) {
  const w = workers ? ['-w', String(workers)] : [];
  test(`five kill -9 and a resume give a clean run's output and dead letters${workers ? ` (-w ${workers})` : ''}`, async () => {
    const name = (what: string): string => join(dir, `kill${workers}-${what}`);
    const clean = await runOp(['map', slow, '-c', String(CONCURRENCY), ...w, '--in', inputFile, '--errors', name('clean-errors')], { env: { OP_TEST_CALLS: name('clean-calls') } });
    assert.is(clean.status, 3, clean.stderr);
    const calls = name('calls');
    const args = ['map', slow, '-c', String(CONCURRENCY), ...w, '--in', inputFile, '--journal', name('journal'), '--errors', name('errors'), '--out', name('out')];
    for (let kill = 0; kill < 5; kill++) {
      // A random moment: 50 to 250 calls into this run.
      await killAfter(args, { OP_TEST_CALLS: calls }, calls, countLines(calls) + 50 + Math.floor(Math.random() * 200));
    }
    const last = await runOp([...args, '--stats'], { env: { OP_TEST_CALLS: calls } });
    assert.is(last.status, 3, last.stderr);
    assert.ok(readFileSync(name('out'), 'utf8') === clean.stdout, 'output differs from a clean run');
    assert.ok(readFileSync(name('errors'), 'utf8') === readFileSync(name('clean-errors'), 'utf8'), 'dead letters differ');
    const stats = JSON.parse(last.stderr.trim().split('\n').pop()!) as { in: number; resumed: number; errors: number };
    assert.is(stats.in, N);
    assert.is(stats.errors, 20);
    assert.ok(stats.resumed > 0);
    const bound = N + 5 * (CONCURRENCY * Math.max(1, workers) + CHUNK_SLACK);
    assert.ok(countLines(calls) <= bound, `${countLines(calls)} handler calls, more than ${bound}`);
  });
}

test('a journal cut mid-line: the torn entry is dropped with a warning and its record runs again', async () => {
  const journal = join(dir, 'torn.journal');
  const records = ndjson([{ n: 1 }, { n: 2 }, { n: 3 }]);
  const first = await runOp(['map', '({...r, m: r.n * 10})', '--journal', journal], { input: records });
  assert.is(first.status, 0, first.stderr);
  const text = readFileSync(journal, 'utf8');
  writeFileSync(journal, text.slice(0, text.length - 8));
  const again = await runOp(['map', '({...r, m: r.n * 10})', '--journal', journal, '--stats'], { input: records });
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, first.stdout);
  assert.match(again.stderr, /dropped a torn last entry/);
  assert.match(again.stderr, /"resumed":2/);
});

test('a handler edited between runs is refused, naming what changed, then accepted with --force', async () => {
  const journal = join(dir, 'edited.journal');
  const records = ndjson([{ n: 1 }, { n: 2 }]);
  const first = await runOp(['map', '({...r, m: 1})', '--journal', journal], { input: records });
  assert.is(first.status, 0, first.stderr);
  const refused = await runOp(['map', '({...r, m: 2})', '--journal', journal], { input: records });
  assert.is(refused.status, 2);
  assert.is(refused.stdout, '');
  assert.match(refused.stderr, /the handler changed/);
  const forced = await runOp(['map', '({...r, m: 2})', '--journal', journal, '--force', '--stats'], { input: records });
  assert.is(forced.status, 0, forced.stderr);
  // Taken from the journal: what the first handler produced.
  assert.is(forced.stdout, first.stdout);
  assert.match(forced.stderr, /"resumed":2/);
  const otherKey = await runOp(['map', '({...r, m: 1})', '--journal', journal, '--id', 'n'], { input: records });
  assert.is(otherKey.status, 2);
  assert.match(otherKey.stderr, /the record key \(--id\) \(line → id:n\) changed/);
});

test('a program handler is identified by its argv, its --protocol and its script: a change is refused, the same one resumes', async () => {
  const journal = join(dir, 'program.journal');
  const script = join(dir, 'tag.py');
  const records = ndjson([{ n: 1 }, { n: 2 }]);
  const tag = (value: string): string => `import json, sys\nfor line in sys.stdin:\n    r = json.loads(line)\n    r["tag"] = ${JSON.stringify(value)}\n    print(json.dumps(r, separators=(",", ":")), flush=True)\n`;
  writeFileSync(script, tag('a'));
  const program = ['--', 'python3', script];
  const first = await runOp(['map', '--journal', journal, ...program], { input: records });
  assert.is(first.status, 0, first.stderr);
  assert.is(first.stdout, ndjson([{ n: 1, tag: 'a' }, { n: 2, tag: 'a' }]));
  const refusals = [
    ['another program', ['map', '--journal', journal, '--', 'python3', '-u', script]],
    ['another protocol', ['map', '--journal', journal, '--protocol', 'json', ...program]],
  ] as const;
  for (const [what, args] of refusals) {
    const refused = await runOp([...args], { input: records });
    assert.is(refused.status, 2, `${what}: ${refused.stderr}`);
    assert.is(refused.stdout, '', what);
    assert.match(refused.stderr, /the handler changed/, what);
  }
  writeFileSync(script, tag('b'));
  const edited = await runOp(['map', '--journal', journal, ...program], { input: records });
  assert.is(edited.status, 2, `an edited script: ${edited.stderr}`);
  assert.match(edited.stderr, /the handler changed/);
  writeFileSync(script, tag('a'));
  const same = await runOp(['map', '--journal', journal, '--stats', ...program], { input: records });
  assert.is(same.status, 0, same.stderr);
  assert.is(same.stdout, first.stdout);
  assert.match(same.stderr, /"resumed":2/);
});

test('duplicate input lines are two records with two outputs, also when resumed', async () => {
  const journal = join(dir, 'dupes.journal');
  const records = ndjson([{ n: 1 }, { n: 1 }, { n: 2 }]);
  const first = await runOp(['map', '({...r, i})', '--journal', journal], { input: records });
  assert.is(first.stdout, ndjson([{ n: 1, i: 0 }, { n: 1, i: 1 }, { n: 2, i: 2 }]));
  const more = ndjson([{ n: 1 }, { n: 1 }, { n: 1 }, { n: 2 }]);
  const again = await runOp(['map', '({...r, i})', '--journal', journal, '--stats'], { input: more });
  // The third {"n":1} is new and runs; the journal answers for the rest.
  assert.is(again.stdout, ndjson([{ n: 1, i: 0 }, { n: 1, i: 1 }, { n: 1, i: 2 }, { n: 2, i: 2 }]));
  assert.match(again.stderr, /"resumed":3/);
});

test('--resume-failed runs the journaled dead records again; without it they are reported again', async () => {
  const journal = join(dir, 'failed.journal');
  const errors = join(dir, 'failed-errors.ndjson');
  const records = ndjson([{ n: 1 }, { n: 2 }, { n: 3 }]);
  const first = await runOp(['filter', 'r.n === 2 ? r.x.y : true', '--journal', journal, '--errors', errors], { input: records });
  assert.is(first.status, 3, first.stderr);
  const letters = readFileSync(errors, 'utf8');
  const again = await runOp(['filter', 'r.n === 2 ? r.x.y : true', '--journal', journal, '--errors', errors], { input: records });
  assert.is(again.status, 3);
  assert.is(again.stdout, first.stdout);
  assert.is(readFileSync(errors, 'utf8'), letters);
  const rerun = await runOp(['filter', 'r.n === 2 ? r.x.y : true', '--journal', journal, '--errors', errors, '--resume-failed', '--stats'], { input: records });
  assert.is(rerun.status, 3);
  assert.match(rerun.stderr, /"resumed":2/);
});

test('op slice and op batch resume byte for byte', async () => {
  const records = ndjson(Array.from({ length: 50 }, (_, n) => ({ n })));
  for (const args of [['slice', '[r, r]'], ['batch', '--size', '7', 'rs => [rs.length]']]) {
    const journal = join(dir, `${args[0]}.journal`);
    const clean = await runOp(args, { input: records });
    const first = await runOp([...args, '--journal', journal], { input: records });
    assert.is(first.stdout, clean.stdout);
    const again = await runOp([...args, '--journal', journal, '--stats'], { input: records });
    assert.is(again.stdout, clean.stdout);
    assert.match(again.stderr, /"resumed":50/);
  }
});

test('the journal is the same bytes inline and with -w 2: keys counted in input order, one line, several or none per record, ASCII or not', async () => {
  // Repeats across many small chunks, some output past ASCII, some records dropped or doubled.
  const records = ndjson(Array.from({ length: 3000 }, (_, k) => (k % 7 === 0 ? { n: 0 } : { n: k, t: k % 13 === 0 ? 'é' : 'a' })));
  for (const args of [['map', 'r.n % 3 === 1 ? undefined : r'], ['slice', 'r.n % 4 === 2 ? [r, r] : [r]']]) {
    const clean = await runOp(args, { input: records });
    const journals: string[] = [];
    for (const w of [[], ['-w', '2']]) {
      const journal = join(dir, `same-${args[0]}-${w.length}.journal`);
      const run = await runOp([...args, ...w, '--journal', journal], { input: records, env: { OP_CHUNK_BYTES: '4096' } });
      assert.is(run.status, 0, run.stderr);
      assert.ok(run.stdout === clean.stdout, `${args[0]} ${w.join(' ')}: output differs from a run without a journal`);
      journals.push(readFileSync(journal, 'utf8'));
      const again = await runOp([...args, ...w, '--journal', journal, '--stats'], { input: records });
      assert.ok(again.stdout === clean.stdout, `${args[0]} ${w.join(' ')}: resumed output differs`);
      assert.match(again.stderr, /"resumed":3000/);
    }
    assert.ok(journals[0] === journals[1], `${args[0]}: the -w 2 journal differs from the inline one`);
    const entries = journals[0]!.trim().split('\n').slice(1);
    assert.is(entries.length, 3000);
    // The 429 copies of {"n":0} are keyed apart by their count.
    assert.ok(entries.some((line) => /^\{"k":"[0-9a-f]{16}#428","s":"ok"/.test(line)), 'no key counted to #428');
  }
});

test('--id keys of any length and script are journaled whole: long non-ASCII ids with ASCII output resume', async () => {
  const journal = join(dir, 'long-ids.journal');
  const records = ndjson(Array.from({ length: 500 }, (_, n) => ({ id: `${'名'.repeat(60)}${n}`, n })));
  const first = await runOp(['map', '({n: r.n})', '--id', 'id', '--journal', journal], { input: records });
  assert.is(first.status, 0, first.stderr);
  const again = await runOp(['map', '({n: r.n})', '--id', 'id', '--journal', journal, '--stats'], { input: records });
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, first.stdout);
  assert.match(again.stderr, /"resumed":500/);
});

test('a journal written in another journal format is refused, even with --force', async () => {
  const journal = join(dir, 'format1.journal');
  writeFileSync(journal, `${JSON.stringify({ journal: 1, op: '0.1.0', command: 'op map', handler: 'x', key: 'line' })}\n{"k":"00","s":"ok","o":[{}]}\n`);
  const run = await runOp(['map', 'r', '--journal', journal, '--force'], { input: ndjson([{ n: 1 }]) });
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /journal format 1, and this op reads format 2/);
  assert.is(run.stdout, '');
});

const isRoot = process.getuid?.() === 0;
test('a journal on a full disk: a clear error, exit 1, and no output without its entry', async () => {
  if (!isRoot) return;
  const mount = join(dir, 'small');
  mkdirSync(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  } catch {
    return; // No tmpfs mounts here (a container without the capability).
  }
  try {
    const journal = join(mount, 'full.journal');
    const records = ndjson(Array.from({ length: 5000 }, (_, n) => ({ n, pad: 'y'.repeat(40) })));
    const result = await runOp(['map', '({...r, m: r.n})', '--journal', journal], { input: records });
    assert.is(result.status, 1);
    assert.match(result.stderr, /--journal .*full\.journal: cannot write: no space left on device/);
    assert.not.match(result.stderr, /\n\s+at /);
    // Every output line has its entry, complete, in the journal.
    const entries = readFileSync(journal, 'utf8').split('\n').slice(1, -1);
    const out = result.stdout.split('\n').slice(0, -1);
    assert.ok(out.length < 5000);
    assert.ok(out.length <= entries.length, `${out.length} lines out, ${entries.length} entries`);
    for (let k = 0; k < out.length; k++) assert.ok(entries[k]!.includes(out[k]!), `line ${k + 1} has no entry`);
    assert.ok(statSync(journal).size > 0);
  } finally {
    execFileSync('umount', [mount]);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { makeScratch, readJsonLines, removeScratch } from './each-process.js';

interface Exec {
  argv: string[];
  exit: number | null;
  signal: string | null;
  ms: number;
  attempt: number;
  stdout?: unknown;
  stderr?: string;
  truncated?: boolean;
  timedOut?: boolean;
}
interface DeadLetter {
  line: number;
  id: unknown;
  input: unknown;
  error: { name: string; message: string; exit: number | null; signal: string | null; stderr: string; argv: string[] };
  attempts: number;
  stage: string;
}

test('exit 3 is a dead letter saying exit: 3 with the stderr tail; --ok-codes 0,3 passes it', async () => {
  const dir = makeScratch('exit3');
  const errors = join(dir, 'errors.ndjson');
  const script = 'echo "about to fail" >&2; echo "disk full" >&2; exit 3';
  const failed = await runOp(['each', '--errors', errors, '--', 'sh', '-c', script], { input: '{"id":1}\n' });
  assert.is(failed.status, 3, failed.stderr);
  assert.is(failed.stdout, '');
  const [entry] = readJsonLines<DeadLetter>(errors);
  assert.is(entry!.error.exit, 3);
  assert.is(entry!.error.signal, null);
  assert.is(entry!.error.stderr, 'about to fail\ndisk full');
  assert.is(entry!.error.message, 'exit 3: disk full');
  assert.is(entry!.stage, 'each');
  assert.equal(entry!.input, { id: 1 });

  const passed = await runOp(['each', '--ok-codes', '0,3', '--', 'sh', '-c', script], { input: '{"id":1}\n' });
  assert.is(passed.status, 0, passed.stderr);
  const [record] = lines(passed.stdout) as Array<{ id: number; exec: Exec }>;
  assert.is(record!.exec.exit, 3);
  assert.is(record!.exec.stderr, 'about to fail\ndisk full\n');
  removeScratch(dir);
});

test('without --errors the first failure stops the run, naming the line (exit 1)', async () => {
  const { stderr, status } = await runOp(['each', '-j', '1', '--', 'sh', '-c', 'exit $1', 'op', '{.code}'], { input: ndjson([{ code: 0 }, { code: 4 }, { code: 0 }]) });
  assert.is(status, 1);
  assert.match(stderr, /^op each: stdin:2: ExecError: exit 4\n/);
});

test('a command that is not found fails its record with exit 127, naming the command; op goes on', async () => {
  const { stdout, status, stderr } = await runOp(['each', '--errors', '/dev/stdout', '--', 'no-such-command-here', '{.id}'], { input: ndjson([{ id: 1 }, { id: 2 }]) });
  assert.is(status, 3, stderr);
  const dead = lines(stdout) as DeadLetter[];
  assert.is(dead.length, 2);
  for (const entry of dead) {
    assert.is(entry.error.exit, 127);
    assert.is(entry.error.message, 'command not found: no-such-command-here');
    assert.is(entry.attempts, 1, 'not retried');
  }
});

test('sleep 10 under --timeout 1000 ends within 3 s; the signal is recorded', async () => {
  const started = Date.now();
  const { stdout, status, stderr } = await runOp(['each', '--timeout', '1000', '--errors', '/dev/stdout', '--', 'sleep', '10'], { input: '{}\n', timeoutMs: 20_000 });
  const elapsed = Date.now() - started;
  assert.is(status, 3, stderr);
  assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  const [entry] = lines(stdout) as DeadLetter[];
  assert.is(entry!.error.signal, 'SIGTERM');
  assert.is(entry!.error.exit, null);
  assert.match(entry!.error.message, /^timed out after 1000 ms \(SIGTERM\)/);
});

test('a job that ignores SIGTERM gets SIGKILL after --kill-after, with everything it started', async () => {
  const dir = makeScratch('kill-after');
  const pids = join(dir, 'pids');
  // The child also ignores TERM and would hold the group open.
  const script = `trap '' TERM; (trap '' TERM; exec sleep 30) & echo $! > "$1"; wait`;
  const { stdout, status } = await runOp(['each', '--timeout', '200', '--kill-after', '300', '--errors', '/dev/stdout', '--', 'sh', '-c', script, 'op', pids], { input: '{}\n', timeoutMs: 20_000 });
  assert.is(status, 3);
  const [entry] = lines(stdout) as DeadLetter[];
  assert.is(entry!.error.signal, 'SIGKILL');
  const child = Number(readFileSync(pids, 'utf8').trim());
  const { isAlive } = await import('./each-process.js');
  assert.is(isAlive(child), false, 'the background child is gone');
  removeScratch(dir);
});

test('--retries: a job that fails once succeeds on attempt 2, and the record says so', async () => {
  const dir = makeScratch('retries');
  const marker = join(dir, 'ran-once');
  const script = 'if [ -e "$1" ]; then echo ok; else : > "$1"; exit 1; fi';
  const { stdout, status, stderr } = await runOp(['each', '--retries', '2', '--retry-delay', '1', '--stats', '--', 'sh', '-c', script, 'op', marker], { input: '{"id":1}\n' });
  assert.is(status, 0, stderr);
  const [record] = lines(stdout) as Array<{ exec: Exec }>;
  assert.is(record!.exec.attempt, 2);
  assert.is(record!.exec.stdout, 'ok\n');
  assert.match(stderr, /"retries":1/);
  removeScratch(dir);
});

test('-j 8 with random durations: input order kept; every input is one output or one dead letter', async () => {
  const dir = makeScratch('order');
  const errors = join(dir, 'errors.ndjson');
  const records = Array.from({ length: 60 }, (_, k) => ({ k, ms: Math.floor(Math.random() * 80), code: k % 7 === 3 ? 5 : 0 }));
  const script = 'sleep "$(printf "0.%03d" "$1")"; echo "$2"; exit "$3"';
  const { stdout, status, stderr } = await runOp(['each', '-j', '8', '--errors', errors, '--stats', '--', 'sh', '-c', script, 'op', '{.ms}', '{.k}', '{.code}'], { input: ndjson(records) });
  assert.is(status, 3, stderr);
  const out = lines(stdout) as Array<{ k: number; exec: Exec }>;
  const dead = readJsonLines<DeadLetter>(errors);
  assert.equal(out.map((r) => r.k), records.filter((r) => r.code === 0).map((r) => r.k), 'successes in input order');
  assert.equal(dead.map((d) => (d.input as { k: number }).k).sort((a, b) => a - b), records.filter((r) => r.code !== 0).map((r) => r.k));
  for (const r of out) assert.is(r.exec.stdout, `${r.k}\n`);
  for (const d of dead) assert.is(d.error.exit, 5);
  const stats = JSON.parse(stderr.trim().split('\n').pop()!) as { in: number; out: number; errors: number };
  assert.equal([stats.in, stats.out, stats.errors], [60, out.length, dead.length]);
  removeScratch(dir);
});

test('{%} is a job slot: never two running jobs with the same slot, all within 1..N', async () => {
  const dir = makeScratch('slots');
  // Each job claims its slot with mkdir (atomic): a second claim of a held slot fails the job.
  const script = 'mkdir "$1/slot-$2" || exit 9; sleep 0.02; rmdir "$1/slot-$2"';
  const { stdout, status, stderr } = await runOp(['each', '-j', '3', '--', 'sh', '-c', script, 'op', dir, '{%}'], { input: ndjson(Array.from({ length: 30 }, (_, k) => ({ k }))) });
  assert.is(status, 0, stderr);
  const slots = new Set((lines(stdout) as Array<{ exec: Exec }>).map((r) => r.exec.argv.at(-1)));
  for (const slot of slots) assert.ok(['1', '2', '3'].includes(slot!), `slot ${slot}`);
  removeScratch(dir);
});

test('--unordered writes in completion order', async () => {
  const { stdout, status } = await runOp(['each', '-j', '2', '--unordered', '--', 'sleep', '{.s}'], { input: ndjson([{ s: '0.6' }, { s: '0' }]) });
  assert.is(status, 0);
  assert.equal((lines(stdout) as Array<{ s: string }>).map((r) => r.s), ['0', '0.6']);
});

test('--capture, --max-output, --stdout-json', async () => {
  const both = await runOp(['each', '--max-output', '4', '--', 'sh', '-c', 'printf 123456; printf abcdefg >&2'], { input: '{}\n' });
  const [cut] = lines(both.stdout) as Array<{ exec: Exec }>;
  assert.is(cut!.exec.stdout, '1234');
  assert.is(cut!.exec.stderr, 'abcd');
  assert.is(cut!.exec.truncated, true);

  const none = await runOp(['each', '--capture', 'none', '--', 'echo', 'hi'], { input: '{}\n' });
  const [bare] = lines(none.stdout) as Array<{ exec: Exec }>;
  assert.equal(Object.keys(bare!.exec), ['argv', 'exit', 'signal', 'ms', 'attempt']);

  const stderrOnly = await runOp(['each', '--capture', 'stderr', '--', 'echo', 'hi'], { input: '{}\n' });
  assert.equal(Object.keys((lines(stderrOnly.stdout) as Array<{ exec: Exec }>)[0]!.exec), ['argv', 'exit', 'signal', 'ms', 'attempt', 'stderr']);

  const json = await runOp(['each', '--stdout-json', '--capture', 'stdout', '--', 'printf', '%s', '{.out}'], { input: ndjson([{ out: '{"a":[1,2]}' }, { out: '{"n":1}\n{"n":2}\n' }, { out: 'not json' }]), });
  assert.is(json.status, 1);
  const parsed = lines(json.stdout) as Array<{ exec: Exec }>;
  assert.equal(parsed.map((r) => r.exec.stdout), [{ a: [1, 2] }, [{ n: 1 }, { n: 2 }]]);
  assert.match(json.stderr, /stdin:3: ExecError: stdout is not JSON/);
});

test('--stdin record and --stdin field:NAME; a record that is not an object is kept under "input"', async () => {
  const whole = await runOp(['each', '--stdin', 'record', '--', 'cat'], { input: '{"a":1, "b":"x"}\n' });
  assert.is((lines(whole.stdout) as Array<{ exec: Exec }>)[0]!.exec.stdout, '{"a":1,"b":"x"}\n');
  const field = await runOp(['each', '--stdin', 'field:text', '--', 'wc', '-c'], { input: ndjson([{ text: 'hello' }, { text: 'hé' }]) });
  assert.equal((lines(field.stdout) as Array<{ exec: Exec }>).map((r) => (r.exec.stdout as string).trim()), ['5', '3']);
  const plain = await runOp(['each', '--', 'echo', '{}'], { input: '"str"\n42\n' });
  assert.equal((lines(plain.stdout) as Array<{ input: unknown; exec: Exec }>).map((r) => [r.input, r.exec.stdout]), [['str', '"str"\n'], [42, '42\n']]);
});

test('--workdir: the job runs in its record workdir, removed after success and kept after failure', async () => {
  const dir = makeScratch('workdir');
  const root = join(dir, 'work');
  const { stdout, status, stderr } = await runOp(['each', '--workdir', root, '--id', 'name', '--errors', join(dir, 'errors'), '--', 'sh', '-c', 'pwd; touch here; exit $1', 'op', '{.code}'], { input: ndjson([{ name: 'a', code: 0 }, { name: 'b', code: 1 }]) });
  assert.is(status, 3, stderr);
  const [record] = lines(stdout) as Array<{ exec: Exec }>;
  assert.is(record!.exec.stdout, `${join(root, 'a')}\n`);
  const { existsSync } = await import('node:fs');
  assert.is(existsSync(join(root, 'a')), false);
  assert.is(existsSync(join(root, 'b', 'here')), true);
  removeScratch(dir);
});

test('--progress: jobs done, failed, running, the rate, and percent and ETA from the input processed', async () => {
  const dir = makeScratch('progress');
  const input = join(dir, 'in.ndjson');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(input, ndjson([{ code: 0 }, { code: 1 }, { code: 0 }]));
  const { stderr, status } = await runOp(['each', '--progress', '--in', input, '--errors', join(dir, 'errors'), '--', 'sh', '-c', 'exit $1', 'op', '{.code}']);
  assert.is(status, 3);
  assert.match(stderr, /^op each: 3 done {2}1 failed {2}0 running {2}[\d.,]+\/s {2}100% {2}ETA 0:00\nop each: 1 of 3 records failed; see /);
  removeScratch(dir);
});

test.run();

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, OP } from '../helpers/run-op.js';
import { EachProcess, groupOf, isAlive, makeScratch, membersOf, readJsonLines, readPids, removeScratch, waitUntil } from './each-process.js';

/**
 * Each job notes its pid in $1, sleeps $2 s, then notes its pid in $1.done; with $3 = ignore
 * it and a child of it ignore SIGTERM.
 */
const JOB = `if [ "$3" = ignore ]; then trap '' TERM; (trap '' TERM; exec sleep 30) & echo $! >> "$1"; fi; echo $$ >> "$1"; sleep "$2" & wait $!; wait; echo $$ >> "$1.done"`;

/** The jobs that wrote $1.done have exited (their status is known, whatever comes next). */
const finished = (pids: string, count: number): boolean => {
  const done = readPids(`${pids}.done`);
  return done.length >= count && done.every((pid) => !isAlive(pid));
};

test('SIGTERM: no new jobs, running groups get TERM then KILL after --stop-timeout; finished records written; exit 143; nothing left', async () => {
  const dir = makeScratch('sigterm');
  const pids = join(dir, 'pids');
  const errors = join(dir, 'errors.ndjson');
  const records = [
    { k: 0, s: '30', how: 'plain' },
    { k: 1, s: '0', how: 'plain' },
    { k: 2, s: '30', how: 'ignore' },
    { k: 3, s: '0', how: 'plain' },
    { k: 4, s: '0', how: 'plain' },
  ];
  const op = new EachProcess(['-j', '3', '--stop-timeout', '500', '--errors', errors, '--', 'sh', '-c', JOB, 'job', pids, '{.s}', '{.how}'], ndjson(records));
  let seen: number[] = [];
  try {
    // k0 and k2 keep running (k2 with a child); k1, k3 and k4 finish behind k0.
    await waitUntil(() => readPids(pids).length >= 6, 'every job to start');
    await waitUntil(() => finished(pids, 3), 'the fast jobs to end');
    seen = readPids(pids);
    const groups = new Set(seen.filter(isAlive).map(groupOf));
    assert.is(groups.size, 2, 'the two running jobs, each in a process group of its own');
    for (const group of groups) {
      assert.ok(seen.includes(group!), 'each job leads its group');
      assert.is.not(group, groupOf(op.child.pid!), 'not op\'s group');
    }
    assert.is(membersOf([...groups].find((group) => membersOf(group!).length === 2)!).length, 2, 'the child of a job is in its group');
    const asked = Date.now();
    op.child.kill('SIGTERM');
    const { status } = await op.ended;
    assert.is(status, 143, op.stderr);
    assert.ok(Date.now() - asked >= 450, 'the group ignoring TERM had --stop-timeout before KILL');
    for (const pid of readPids(pids)) assert.is(isAlive(pid), false, `pid ${pid} is gone`);
    const out = lines(op.stdout) as Array<{ k: number }>;
    const dead = readJsonLines<{ input: { k: number }; error: { message: string; signal: string | null } }>(errors);
    const doneKs = out.map((r) => r.k);
    const deadKs = dead.map((d) => d.input.k).sort();
    assert.equal(deadKs, [0, 2], 'the interrupted jobs are dead letters');
    for (const d of dead) assert.match(d.error.message, /^interrupted: op each stopped by SIGTERM/);
    assert.equal(doneKs, [1, 3, 4], 'the finished jobs behind an interrupted one are written, in order');
  } finally {
    op.child.kill('SIGKILL');
    for (const pid of seen) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  removeScratch(dir);
});

test('SIGINT without --errors: interrupted jobs are reported on stderr, finished ones written in order behind them; exit 130', async () => {
  const dir = makeScratch('sigint');
  const pids = join(dir, 'pids');
  const op = new EachProcess(['-j', '2', '--', 'sh', '-c', JOB, 'job', pids, '{.s}', 'plain'], ndjson([{ k: 0, s: '30' }, { k: 1, s: '0' }]));
  try {
    await waitUntil(() => readPids(pids).length >= 2, 'both jobs to start');
    await waitUntil(() => finished(pids, 1), 'the fast job to end');
    op.child.kill('SIGINT');
    const { status } = await op.ended;
    assert.is(status, 130);
    assert.equal((lines(op.stdout) as Array<{ k: number }>).map((r) => r.k), [1]);
    assert.match(op.stderr, /op each: stdin:1: interrupted: op each stopped by SIGINT/);
    for (const pid of readPids(pids)) assert.is(isAlive(pid), false);
  } finally {
    op.child.kill('SIGKILL');
  }
  removeScratch(dir);
});

test('a second signal cuts --stop-timeout short and still leaves no process behind', async () => {
  const dir = makeScratch('second-signal');
  const pids = join(dir, 'pids');
  const op = new EachProcess(['--stop-timeout', '30000', '--', 'sh', '-c', JOB, 'job', pids, '30', 'ignore'], '{}\n');
  try {
    await waitUntil(() => readPids(pids).length >= 2, 'the job and its child to start');
    const asked = Date.now();
    op.child.kill('SIGINT');
    await waitUntil(() => op.stderr !== '' || Date.now() - asked > 200, 'the first signal to land');
    op.child.kill('SIGINT');
    const { status } = await op.ended;
    assert.is(status, 130);
    assert.ok(Date.now() - asked < 10_000, 'did not wait out --stop-timeout');
    await waitUntil(() => readPids(pids).every((pid) => !isAlive(pid)), 'the group to be gone', 2000);
  } finally {
    op.child.kill('SIGKILL');
    for (const pid of readPids(pids)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  removeScratch(dir);
});

test('--halt now,fail=1 kills the running jobs and starts no more; exit 1', async () => {
  const dir = makeScratch('halt-now');
  const pids = join(dir, 'pids');
  const errors = join(dir, 'errors.ndjson');
  const script = 'echo $$ >> "$1"; if [ "$2" = fail ]; then sleep 0.2; exit 2; fi; sleep 30';
  const records = [{ k: 0, do: 'sleep' }, { k: 1, do: 'fail' }, ...Array.from({ length: 5 }, (_, k) => ({ k: k + 2, do: 'sleep' }))];
  const started = Date.now();
  const { stdout, stderr, status } = await runEach(['-j', '2', '--halt', 'now,fail=1', '--errors', errors, '--', 'sh', '-c', script, 'job', pids, '{.do}'], ndjson(records));
  assert.is(status, 1, stderr);
  assert.ok(Date.now() - started < 10_000);
  assert.is(stdout, '');
  assert.match(stderr, /halted after 1 failed of 1 jobs \(--halt now,fail=1\)/);
  const dead = readJsonLines<{ input: { k: number }; error: { message: string } }>(errors);
  assert.equal(dead.map((d) => d.input.k).sort(), [0, 1]);
  assert.match(dead.find((d) => d.input.k === 0)!.error.message, /^killed: --halt now,fail=1/);
  assert.is(readPids(pids).length, 2, 'no job started after the halt');
  for (const pid of readPids(pids)) assert.is(isAlive(pid), false);
  removeScratch(dir);
});

test('--halt soon,fail=1 lets the running job finish and starts no more', async () => {
  const dir = makeScratch('halt-soon');
  const pids = join(dir, 'pids');
  const errors = join(dir, 'errors.ndjson');
  const script = 'echo $$ >> "$1"; if [ "$2" = fail ]; then exit 2; fi; sleep 0.5';
  const records = [{ k: 0, do: 'sleep' }, { k: 1, do: 'fail' }, ...Array.from({ length: 5 }, (_, k) => ({ k: k + 2, do: 'sleep' }))];
  const { stdout, stderr, status } = await runEach(['-j', '2', '--halt', 'soon,fail=1', '--errors', errors, '--', 'sh', '-c', script, 'job', pids, '{.do}'], ndjson(records));
  assert.is(status, 1, stderr);
  assert.equal((lines(stdout) as Array<{ k: number }>).map((r) => r.k), [0], 'the running job finished and was written');
  assert.equal(readJsonLines<{ input: { k: number } }>(errors).map((d) => d.input.k), [1]);
  assert.is(readPids(pids).length, 2);
  removeScratch(dir);
});

test('a closed output (| head -1) ends the run quietly, at the next write, and ends the jobs still running', async () => {
  const dir = makeScratch('closed');
  const pids = join(dir, 'pids');
  const { spawnSync } = await import('node:child_process');
  const line = `"${process.execPath}" "${OP}" each -j 2 -- sh -c 'echo $$ >> "$1"; sleep "$2"' job "${pids}" '{.s}' | head -1`;
  const result = spawnSync('/bin/sh', ['-c', line], { input: ndjson([{ s: 0 }, { s: 2 }, { s: 30 }]), timeout: 25_000 });
  assert.is(result.status, 0);
  assert.match(result.stdout.toString(), /^\{"s":0,/);
  await waitUntil(() => readPids(pids).every((pid) => !isAlive(pid)), 'the sleeping job to be gone', 5000);
  removeScratch(dir);
});

test('a process a job leaves running in its group is ended when op each ends', async () => {
  const dir = makeScratch('lingering');
  const pids = join(dir, 'pids');
  const { stdout, status } = await runEach(['--', 'sh', '-c', 'sleep 30 > /dev/null 2>&1 & echo $! > "$1"', 'job', pids], '{}\n');
  assert.is(status, 0);
  assert.is((lines(stdout) as Array<{ exec: { exit: number } }>)[0]!.exec.exit, 0);
  const [left] = readPids(pids);
  await waitUntil(() => !isAlive(left!), 'the background sleep to be gone', 5000);
  removeScratch(dir);
});

function runEach(args: string[], input: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const op = new EachProcess(args, input);
  return op.ended.then(({ status }) => ({ stdout: op.stdout, stderr: op.stderr, status }));
}

test.run();

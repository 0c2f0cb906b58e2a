import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { EachProcess, isAlive, makeScratch, readJsonLines, readPids, removeScratch, waitUntil } from './each-process.js';

/**
 * Jobs start from the job runner (python/opkit_jobs.py) where python3 is on PATH, and from
 * op's own process otherwise or with OP_EACH_RUNNER=node. Both must give the same records.
 */
const RUNNERS = { runner: {}, node: { OP_EACH_RUNNER: 'node' } };

/** One job per way a job can end. */
const CASES = `case "$1" in
  ok) printf out; printf 'err\\n' >&2;;
  exit3) echo 'bad thing' >&2; exit 3;;
  big) head -c 5000 /dev/zero | tr '\\0' x;;
  bytes) printf 'a\\377b';;
  stdin) cat;;
  sleep) exec sleep 10;;
  term) trap '' TERM; sleep 10 & wait $!; wait;;
esac`;

/** A record without its times. */
const timeless = (line: string): string => line.replace(/"ms":\d+/g, '"ms":0');

test('the job runner and op itself give the same records, dead letters and status for every way a job ends', async () => {
  const dir = makeScratch('runners');
  const input = ndjson(['ok', 'exit3', 'big', 'bytes', 'stdin', 'sleep', 'term'].map((c) => ({ c })));
  const results: Record<string, { stdout: string; errors: string; status: number | null }> = {};
  for (const [name, env] of Object.entries(RUNNERS)) {
    const errors = join(dir, `${name}.ndjson`);
    const args = ['each', '-j', '7', '--stdin', 'record', '--max-output', '1000', '--timeout', '1500', '--kill-after', '300', '--errors', errors, '--', 'sh', '-c', CASES, 'job', '{.c}'];
    const { stdout, status } = await runOp(args, { input, env });
    results[name] = { stdout: timeless(stdout), errors: timeless(readFileSync(errors, 'utf8')), status };
  }
  const { runner, node } = results;
  assert.is(runner!.status, 3);
  assert.equal(runner, node);
  const out = lines(runner!.stdout) as Array<{ c: string; exec: { stdout: string; stderr: string; truncated?: boolean; invalidUtf8?: boolean } }>;
  assert.equal(
    out.map(({ c, exec }) => [c, exec.stdout.length, exec.stderr, exec.truncated ?? false, exec.invalidUtf8 ?? false]),
    [
      ['ok', 3, 'err\n', false, false],
      ['big', 1000, '', true, false],
      ['bytes', 3, '', false, true],
      ['stdin', '{"c":"stdin"}\n'.length, '', false, false],
    ],
  );
  const dead = readJsonLines<{ input: { c: string }; error: { message: string; exit: number | null; signal: string | null } }>(join(dir, 'runner.ndjson'));
  assert.equal(
    dead.map(({ input, error }) => [input.c, error.message, error.exit, error.signal]),
    [
      ['exit3', 'exit 3: bad thing', 3, null],
      ['sleep', 'timed out after 1500 ms (SIGTERM)', null, 'SIGTERM'],
      ['term', 'timed out after 1500 ms (SIGKILL)', null, 'SIGKILL'],
    ],
  );
  removeScratch(dir);
});

test('a command not found, and a NUL in a word, fail their records the same way from both', async () => {
  const input = ndjson([{ cmd: 'no-such-command-here' }, { cmd: 'a\u0000b' }]);
  for (const env of Object.values(RUNNERS)) {
    const { stdout, status } = await runOp(['each', '--errors', '/dev/stdout', '--', '{.cmd}'], { input, env });
    assert.is(status, 3);
    // Dead letters come as records fail: the NUL one fails before anything starts.
    const dead = lines(stdout) as Array<{ line: number; error: { message: string; exit: number | null } }>;
    const [missing, nul] = [1, 2].map((line) => dead.find((entry) => entry.line === line)!.error);
    assert.equal([missing!.message, missing!.exit], ['command not found: no-such-command-here', 127]);
    assert.ok(nul!.message.startsWith('cannot run a\u0000b: '), nul!.message);
  }
});

test('jobs are the runner\'s children where python3 is on PATH; op\'s own with OP_EACH_RUNNER=node or without python3', async () => {
  const dir = makeScratch('parents');
  // A PATH with sh and tr and nothing else.
  const bare = join(dir, 'bin');
  mkdirSync(bare);
  for (const tool of ['sh', 'tr']) symlinkSync(`/bin/${tool}`, join(bare, tool));
  const parentOf = async (env: NodeJS.ProcessEnv): Promise<string> => {
    // The parent's command line (its comm is no help: Node 24 names its main thread MainThread).
    const { stdout, stderr, status } = await runOp(['each', '--', 'sh', '-c', 'tr "\\0" " " < /proc/$PPID/cmdline'], { input: '{}\n', env });
    assert.is(status, 0, stderr);
    return ((lines(stdout) as Array<{ exec: { stdout: string } }>)[0]!.exec.stdout ?? '').trim();
  };
  assert.match(await parentOf({}), /python3 -I -S \S*\/python\/opkit_jobs\.py$/);
  assert.match(await parentOf({ OP_EACH_RUNNER: 'node' }), /bin\/run\.js each/);
  assert.match(await parentOf({ PATH: bare }), /bin\/run\.js each/);
  removeScratch(dir);
});

test('a runner that breaks its protocol fails the jobs it took, and op each ends without it', async () => {
  const dir = makeScratch('runner-garbage');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // A python3 that says it is ready, then answers a job with something that is no reply.
  writeFileSync(join(bin, 'python3'), `#!/bin/sh\necho '{"ready":1}'\nread line\necho 'Traceback (most recent call last):'\nexec sleep 30\n`, { mode: 0o755 });
  for (const tool of ['sh', 'true', 'sleep']) symlinkSync(`/bin/${tool}`, join(bin, tool));
  const { stderr, status } = await runOp(['each', '--', 'true'], { input: '{}\n', env: { PATH: bin } });
  assert.is(status, 1);
  assert.match(stderr, /the job runner sent something that is not a reply: "Traceback/);
  removeScratch(dir);
});

test('a runner killed mid-run: its jobs are ended and fail, op each finishes, nothing is left', async () => {
  const dir = makeScratch('runner-killed');
  const pids = join(dir, 'pids');
  const errors = join(dir, 'errors.ndjson');
  const script = 'echo "$$ $PPID" >> "$1"; exec sleep 30';
  const op = new EachProcess(['-j', '2', '--errors', errors, '--', 'sh', '-c', script, 'job', pids], ndjson([{ k: 0 }, { k: 1 }]));
  try {
    await waitUntil(() => readFileSync(pids, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean).length === 2, 'both jobs to start');
    const rows = readFileSync(pids, 'utf8').trim().split('\n').map((row) => row.split(' ').map(Number));
    const runner = rows[0]![1]!;
    assert.ok(rows.every((row) => row[1] === runner), 'one runner started both');
    process.kill(runner, 'SIGKILL');
    assert.is((await op.ended).status, 3, op.stderr);
    const dead = readJsonLines<{ error: { message: string } }>(errors);
    assert.is(dead.length, 2);
    for (const entry of dead) assert.match(entry.error.message, /the job runner exited \(SIGKILL\)/);
    await waitUntil(() => rows.every(([job]) => !isAlive(job!)), 'the jobs to be gone', 5000);
  } finally {
    op.child.kill('SIGKILL');
  }
  removeScratch(dir);
});

test('op each killed with SIGKILL: the runner ends every job and goes', async () => {
  const dir = makeScratch('op-killed');
  const pids = join(dir, 'pids');
  const script = 'echo $$ >> "$1"; echo $PPID >> "$1.runner"; exec sleep 30';
  const op = new EachProcess(['-j', '2', '--', 'sh', '-c', script, 'job', pids], ndjson([{ k: 0 }, { k: 1 }, { k: 2 }]));
  await waitUntil(() => readPids(pids).length === 2, 'two jobs to start');
  op.child.kill('SIGKILL');
  await op.ended;
  const [runner] = readPids(`${pids}.runner`);
  await waitUntil(() => [...readPids(pids), runner!].every((pid) => !isAlive(pid)), 'the jobs and the runner to be gone', 5000);
  removeScratch(dir);
});

test.run();

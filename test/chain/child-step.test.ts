import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isGroupAlive } from '../../src/io/process-group.js';
import { OP, lines, runOp } from '../helpers/run-op.js';
import { scratch, sh } from '../shard/op-shell.js';

const INPUT = Array.from({ length: 500 }, (_, k) => JSON.stringify({ n: k }) + '\n').join('');
// A lines child: one compact reply per line, as JSON.stringify writes it.
const TIMES_TEN = 'import sys, json\nfor line in sys.stdin:\n    r = json.loads(line)\n    print(json.dumps({**r, "py": r["n"] * 10}, separators=(",", ":")))\n';
// A --protocol json child through python/opkit.py: a record it fails is that record's failure alone.
const FAILS_SEVEN = 'from opkit import run\ndef handle(r, ctx):\n    if r["n"] % 100 == 7:\n        raise ValueError("seven")\n    return {**r, "py": r["n"] * 10}\nrun(handle)\n';
// Says its pid, then echoes.
const SAYS_PID = 'import os, sys\nprint("pid", os.getpid(), file=sys.stderr)\nfor line in sys.stdin:\n    print(line, end="")\n';
// Never answers the value 3; echoes every other.
const STUCK_ON_THREE = 'import sys, time\nfor line in sys.stdin:\n    if line.strip() == "3":\n        time.sleep(3600)\n    print(line, end="", flush=True)\n';
const work = scratch({ 'stuck.py': STUCK_ON_THREE, 'in.ndjson': INPUT, 'ten.py': TIMES_TEN, 'seven.py': FAILS_SEVEN, 'pid.py': SAYS_PID, 'steps.chain': "map '({n: r.n})'\nmap -- python3 ten.py then\nfilter 'r.n % 2'\n" });
test.after(() => work.remove());

test("a -- CMD step anywhere in a chain: the output is the pipe's, inline and with -w 2", async () => {
  const pipe = await sh(`op map '({n: r.n})' < in.ndjson | python3 ten.py | op filter 'r.n % 2' | op map '({...r, last: true})'`, work.dir);
  assert.is(pipe.status, 0, pipe.stderr);
  assert.is(lines(pipe.stdout).length, 250);
  for (const workers of [[], ['-w', '2']]) {
    const chain = await runOp(['map', '({n: r.n})', 'then', 'map', '--', 'python3', 'ten.py', 'then', 'filter', 'r.n % 2', ...workers, 'then', 'map', '({...r, last: true})', '--in', 'in.ndjson'], { cwd: work.dir, env: { OP_CHUNK_BYTES: '2048' } });
    assert.is(chain.status, 0, chain.stderr);
    assert.is(chain.stdout, pipe.stdout);
  }
});

test('--timeout on a -- CMD step: the stuck child is replaced, and the values behind the stuck one reach the new child', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const result = await runOp(['map', 'r', '--errors', '/dev/stderr', '--quiet', ...workers, 'then', 'map', '--timeout', '1000', '--', 'python3', 'stuck.py'], { cwd: work.dir, input: '1\n2\n3\n4\n5\n6\n', timeoutMs: 30_000 });
    assert.is(result.status, 3, result.stderr);
    assert.equal(lines(result.stdout), [1, 2, 4, 5, 6], workers.join(' '));
    const letters = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { line: number; error: { name: string } });
    assert.equal(letters.map((letter) => [letter.line, letter.error.name]), [[3, 'TimeoutError']], workers.join(' '));
  }
});

test('op chain FILE: a line is one step, so a `then` in it is an argument of its command', async () => {
  // python3 ten.py then: the script ignores its arguments, but a `then` that split the step would leave `filter` without a step.
  const result = await runOp(['chain', 'steps.chain', '--in', 'in.ndjson'], { cwd: work.dir });
  assert.is(result.status, 0, result.stderr);
  const pipe = await sh(`op map '({n: r.n})' < in.ndjson | python3 ten.py | op filter 'r.n % 2'`, work.dir);
  assert.is(result.stdout, pipe.stdout);
});

test('a record the child fails is dead-lettered under its step, and the others go on', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const result = await runOp(['map', '({n: r.n})', 'then', 'map', '--protocol', 'json', '--', 'python3', 'seven.py', 'then', 'filter', 'r.n < 110', '--errors', 'dl.ndjson', '--in', 'in.ndjson', ...workers], { cwd: work.dir });
    assert.is(result.status, 3, result.stderr);
    assert.equal(
      (lines(result.stdout) as Array<{ n: number }>).map((r) => r.n),
      [...Array(110).keys()].filter((n) => n !== 7 && n !== 107),
    );
    const letters = lines(work.read('dl.ndjson')) as Array<{ line: number; stage: string; input: unknown; error: { name: string; message: string } }>;
    assert.equal(
      letters.map((letter) => [letter.line, letter.stage, letter.input, letter.error.name, letter.error.message]),
      [8, 108, 208, 308, 408].map((line) => [line, '2:map', { n: line - 1 }, 'ValueError', 'seven']),
    );
  }
});

test('SIGTERM: op exits 143 and the step child does not outlive it', async () => {
  const op = spawn(process.execPath, [OP, 'map', 'r', 'then', 'map', '--', 'python3', 'pid.py', 'then', 'filter', 'true'], { cwd: work.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  op.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  op.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) => op.on('close', resolve));
  // Input stays open: the run is live when the signal comes.
  op.stdin.write('{"a":1}\n');
  const deadline = Date.now() + 30_000;
  while (!(stdout.includes('{"a":1}') && /pid \d+/.test(stderr))) {
    if (Date.now() > deadline) {
      op.kill('SIGKILL');
      assert.unreachable(`no output; stderr: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = Number(/pid (\d+)/.exec(stderr)![1]);
  assert.is(isGroupAlive(pid), true);
  op.kill('SIGTERM');
  assert.is(await closed, 143, stderr);
  assert.is(isGroupAlive(pid), false, `child ${pid} outlived op`);
});

test('a step with -- and a HANDLER, or with nothing after --, is a usage error', async () => {
  const both = await runOp(['map', 'r', 'then', 'map', 'r', '--', 'cat'], { cwd: work.dir, input: '1\n' });
  assert.is(both.status, 2);
  assert.match(both.stderr, 'step 2 (map): give HANDLER or a command after --, not both');
  const empty = await runOp(['map', 'r', 'then', 'map', '--', 'then', 'map', 'r'], { cwd: work.dir, input: '1\n' });
  assert.is(empty.status, 2);
  assert.match(empty.stderr, 'step 2 (map): missing COMMAND after --');
});

test.run();

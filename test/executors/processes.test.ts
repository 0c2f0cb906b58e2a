import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isGroupAlive } from '../../src/io/process-group.js';
import { FIXTURES, OP, lines, ndjson, runOp } from '../helpers/run-op.js';

const FAULTY = join(FIXTURES, 'python', 'faulty.py');
const SCORE = join(FIXTURES, 'python', 'score.py');
/** Small chunks, so a few hundred records make many jobs and every child gets some. */
const SMALL = { OP_EXEC_CHUNK_BYTES: '2048' };

interface Letter {
  line: number;
  input: unknown;
  attempts: number;
  stage: string;
  error: { name: string; message: string; stderr?: string; exit?: number | null; signal?: string | null; at?: string };
}

const records = (n: number, extra: (id: number) => object = () => ({})): string => ndjson(Array.from({ length: n }, (_, id) => ({ id, ...extra(id) })));
const ids = (stdout: string): number[] => (lines(stdout) as Array<{ id: number }>).map((r) => r.id);
const range = (n: number, without: number[] = []): number[] => [...Array(n).keys()].filter((id) => !without.includes(id));

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'opkit-exec-'));
}

/** op as a live process: its output as it comes, and a way to wait for a condition on it. */
function startOp(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcessWithoutNullStreams; out: { stdout: string; stderr: string }; until(ok: () => boolean, what: string): Promise<void>; closed: Promise<number | null> } {
  const child = spawn(process.execPath, [OP, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk));
  child.stdin.on('error', () => {});
  // A run that never ends fails its test: TERM first, so op still ends its children.
  const guard = setTimeout(() => stop(), 60_000);
  const stop = (): void => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  };
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve(status);
    }),
  );
  const until = async (ok: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!ok()) {
      if (Date.now() > deadline) {
        stop();
        throw new Error(`timed out waiting for ${what}; stderr: ${out.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, out, until, closed };
}

/** The pids the children reported ({"pid": true} records). */
function pidsIn(stdout: string): number[] {
  return [...new Set((lines(stdout) as Array<{ pid?: number }>).flatMap((r) => (r.pid === undefined ? [] : [r.pid])))];
}

test('--protocol lines: the output is the children’s bytes in input order, with -w 1, 2 and 3; --unordered has the same lines', async () => {
  const input = records(600, (id) => ({ name: `n${id}`, pad: 'x'.repeat(id % 40) }));
  for (const workers of ['1', '2', '3']) {
    const result = await runOp(['map', '-w', workers, '--', 'cat'], { input, env: SMALL });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, input, `-w ${workers}`);
  }
  const unordered = await runOp(['map', '-w', '3', '--unordered', '--', 'cat'], { input, env: SMALL });
  assert.equal(unordered.stdout.split('\n').sort(), input.split('\n').sort());
});

test('blank lines are skipped, CRLF and a missing last newline are not sent; invalid UTF-8 is a decode failure', async () => {
  const input = Buffer.concat([Buffer.from('{"id":0}\r\n\n  \n{"id":1}\n'), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]), Buffer.from('{"id":3}')]);
  const result = await runOp(['map', '--errors', '/dev/stderr', '--quiet', '--', 'cat'], { input });
  assert.is(result.status, 3, result.stderr);
  assert.is(result.stdout, '{"id":0}\n{"id":1}\n{"id":3}\n');
  const [letter] = lines(result.stderr) as Letter[];
  assert.equal([letter!.line, letter!.stage, letter!.error.message], [5, 'decode', 'invalid UTF-8 at byte 3']);
});

test('map: an empty reply drops the record; filter keeps truthy replies by JavaScript’s rules; slice and batch take arrays', async () => {
  const map = await runOp(['map', '--stats', '--', 'python3', FAULTY], { input: '{"id":1}\n{"drop":true}\n{"id":3}\n' });
  assert.is(map.stdout, '{"id":1}\n{"id":3}\n');
  const stats = JSON.parse(map.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal([stats.in, stats.out, stats.dropped], [3, 2, 1]);
  // The reply is the record's "v": kept when truthy as JavaScript decides ([] and {} are; 0, "" and null are not).
  const values = [true, false, 0, 1, -0.0, 0.5, '', 'x', null, [], {}, '0'];
  const input = ndjson(values.map((v, id) => ({ id, v })));
  const python = await runOp(['filter', '--', 'python3', '-c', 'import sys, json\nfor l in sys.stdin: print(json.dumps(json.loads(l)["v"]))'], { input });
  assert.is(python.status, 0, python.stderr);
  assert.equal(ids(python.stdout), values.flatMap((v, id) => (v ? [id] : [])));
  const slice = await runOp(['slice', '--', 'python3', '-c', 'import sys, json\nfor l in sys.stdin: print(json.dumps([json.loads(l)] * json.loads(l)["n"]))'], { input: '{"n":2}\n{"n":0}\n{"n":1}\n' });
  // The elements are written as the child wrote them (json.dumps puts a space after the colon).
  assert.is(slice.stdout, '{"n": 2}\n{"n": 2}\n{"n": 1}\n');
  // Under op batch each line a child reads is a JSON array of the batch's records.
  const batch = await runOp(['batch', '--size', '2', '--', 'python3', '-c', 'import sys, json\nfor l in sys.stdin: print(json.dumps([{"sum": sum(r["a"] for r in json.loads(l))}]))'], { input: '{"a":1}\n{"a":2}\n{"a":3}\n' });
  assert.is(batch.status, 0, batch.stderr);
  assert.is(batch.stdout, '{"sum": 3}\n{"sum": 3}\n');
  const notArray = await runOp(['slice', '--errors', '/dev/stdout', '--', 'cat'], { input: '{"a":1}\n' });
  assert.is(notArray.status, 3);
  assert.match(notArray.stdout, /"name":"TypeError","message":"the reply is an object, not an array of records"/);
});

test('--protocol json: replies in any order; null drops under map; an error reply is retried, then dead-lettered with its message', async () => {
  const input = records(300, (id) => (id === 7 ? { fail: 'bad seven' } : id === 9 ? { drop: true } : {}));
  const dir = scratch();
  const errors = join(dir, 'errors.ndjson');
  // faulty.py --json answers each read's records in reverse order; {"drop":true} replies "" → out is not JSON … so drop via null instead.
  const result = await runOp(['map', '-w', '2', '--protocol', 'json', '--retries', '2', '--retry-delay', '1', '--errors', errors, '--stats', '--', 'python3', FAULTY, '--json'], {
    input: input.replace('{"id":9,"drop":true}', 'null'),
    env: SMALL,
  });
  assert.is(result.status, 3, result.stderr);
  const out = lines(result.stdout) as Array<{ id: number }>;
  assert.equal(
    out.map((r) => r.id),
    range(300, [7, 9]),
  );
  const [letter] = lines(readFileSync(errors, 'utf8')) as Letter[];
  assert.equal([letter!.line, letter!.attempts, letter!.error.name, letter!.error.message], [8, 3, 'ValueError', 'bad seven']);
  const stats = JSON.parse(result.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal([stats.in, stats.out, stats.dropped, stats.errors, stats.retries], [300, 298, 1, 1, 2]);
  rmSync(dir, { recursive: true, force: true });
});

test('each child gets OP_RANK, OP_WORLD_SIZE, OP_WORKER_ID 1..N, OP_COMMAND, OP_CONFIG, PYTHONUNBUFFERED=1 and the helper on PYTHONPATH', async () => {
  const input = records(120, () => ({ env: true, pad: 'y'.repeat(30) }));
  const result = await runOp(['filter', '-w', '3', '--config', '{"k":1}', '--', 'python3', '-c', 'import json, os, sys\nfor l in sys.stdin: print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(("OP_", "PYTHON"))}))'], {
    input,
    env: { ...SMALL, OP_RANK: '2', OP_WORLD_SIZE: '4', PYTHONPATH: '/elsewhere', PYTHONUNBUFFERED: '' },
  });
  assert.is(result.status, 0, result.stderr);
  assert.is(lines(result.stdout).length, 120);
  // filter writes the input records; the environment is checked through a map run.
  const mapped = await runOp(['map', '-w', '3', '--config', '{"k":1}', '--', 'python3', FAULTY], { input, env: { ...SMALL, OP_RANK: '2', OP_WORLD_SIZE: '4', PYTHONPATH: '/elsewhere', PYTHONUNBUFFERED: '' } });
  assert.is(mapped.status, 0, mapped.stderr);
  const envs = lines(mapped.stdout) as Array<Record<string, string>>;
  assert.equal([...new Set(envs.map((env) => env.OP_WORKER_ID))].sort(), ['1', '2', '3']);
  for (const env of envs) {
    assert.equal([env.OP_RANK, env.OP_WORLD_SIZE, env.OP_COMMAND, env.OP_CONFIG, env.PYTHONUNBUFFERED], ['2', '4', 'map', '{"k":1}', '1']);
    assert.is(env.PYTHONPATH, `${join(FIXTURES, '..', 'python')}:/elsewhere`);
  }
});

test('stderr is forwarded line by line with the child’s name, never torn, and the last 20 lines go with its dead letters', async () => {
  // Two children write 1,000-character lines in two pieces each, while they run.
  const writer = 'import sys, time\nfor l in sys.stdin:\n  sys.stderr.write("a" * 500); sys.stderr.flush(); time.sleep(0.001); sys.stderr.write("b" * 500 + "\\n"); sys.stderr.flush(); print(l, end="")';
  const result = await runOp(['map', '-w', '2', '--', 'python3', '-c', writer], { input: records(200), env: SMALL });
  assert.is(result.status, 0, result.stderr);
  const errLines = result.stderr.trimEnd().split('\n');
  assert.is(errLines.length, 200);
  for (const line of errLines) assert.match(line, /^\[op map exec#[12]\] a{500}b{500}$/);
  const dir = scratch();
  const errors = join(dir, 'errors.ndjson');
  const crash = await runOp(['map', '--errors', errors, '--quiet', '--', 'python3', FAULTY], { input: ndjson([{ id: 0 }, { id: 1, stderr: 30, crash: true }, { id: 2 }]) });
  assert.is(crash.status, 3, crash.stderr);
  const [letter] = lines(readFileSync(errors, 'utf8')) as Letter[];
  const tail = letter!.error.stderr!.split('\n');
  assert.is(tail.length, 20);
  assert.is(tail[0], 'stderr line 12 of record 1');
  assert.is(tail[19], 'crashing on record 1');
  assert.match(crash.stderr, /^\[op map exec#1\] stderr line 1 of record 1$/m);
  rmSync(dir, { recursive: true, force: true });
});

for (const [fault, field, name] of [
  ['exits', { crash: true }, /ExecError/],
  ['writes a line that is not JSON', { garbage: true }, /ProtocolError/],
  ['closes its stdout', { close: true }, /ExecError/],
] as const) {
  test(`a child that ${fault} is replaced; its records are rerun one at a time, so only the guilty one is dead-lettered`, async () => {
    const input = records(300, (id) => (id === 123 ? field : {}));
    const result = await runOp(['map', '-w', '2', '--errors', '/dev/stderr', '--quiet', '--stats', '--', 'python3', FAULTY], { input, env: SMALL });
    assert.is(result.status, 3, result.stderr);
    assert.equal(ids(result.stdout), range(300, [123]));
    const letters = result.stderr.split('\n').filter((line) => line.startsWith('{"source"')).map((line) => JSON.parse(line) as Letter);
    assert.equal(letters.map((letter) => [letter.line, letter.attempts, letter.stage]), [[124, 1, 'map']]);
    assert.match(letters[0]!.error.name, name);
    const stats = JSON.parse(result.stderr.trim().split('\n').pop()!) as Record<string, number>;
    assert.equal([stats.in, stats.out, stats.errors], [300, 299, 1]);
  });
}

test('a record that fails its child once succeeds on --retries; without --errors a guilty record stops the run at its line', async () => {
  const dir = scratch();
  // It fails twice: in its chunk (no attempt is used, the guilty record is not known yet) and alone.
  const input = records(50, (id) => (id === 20 ? { crash: 2 } : {}));
  const retried = await runOp(['map', '--retries', '1', '--retry-delay', '1', '--stats', '--', 'python3', FAULTY], { input, env: { OP_FAULT_MARK: join(dir, 'mark') } });
  assert.is(retried.status, 0, retried.stderr);
  assert.equal(ids(retried.stdout), range(50));
  assert.match(retried.stderr, /"retries":1/);
  const stopped = await runOp(['map', '--', 'python3', FAULTY], { input: records(50, (id) => (id === 20 ? { crash: true } : {})) });
  assert.is(stopped.status, 1);
  assert.equal(ids(stopped.stdout), range(20));
  assert.match(stopped.stderr, /^op map: stdin:21: ExecError: exec#1 exited with status 3$/m);
  rmSync(dir, { recursive: true, force: true });
});

test('--max-restarts: a child that keeps failing stops the run with exit 1, quoting its last stderr lines', async () => {
  const result = await runOp(['map', '--max-restarts', '2', '--errors', '/dev/null', '--', 'python3', FAULTY], { input: records(10, () => ({ crash: true })) });
  assert.is(result.status, 1, result.stderr);
  assert.is(result.stdout, '');
  assert.match(result.stderr, /^op map: python3 \S+faulty\.py: more than --max-restarts 2 replacements within a minute, giving up \(the last: exec#1 exited with status 3\); its last stderr lines:\n {2}\| crashing on record \d$/m);
});

test('--timeout: the late record fails an attempt; its child gets TERM (KILL 2 s later when it ignores it) and the other records go to a fresh one', async () => {
  for (const extra of [[], ['--ignore-term']]) {
    const input = records(200, (id) => (id === 50 ? { hang: true } : {}));
    const result = await runOp(['map', '-w', '2', '--timeout', '400', '--errors', '/dev/stderr', '--quiet', '--stats', '--', 'python3', FAULTY, ...extra], { input, env: SMALL });
    assert.is(result.status, 3, result.stderr);
    assert.equal(ids(result.stdout), range(200, [50]));
    const letters = result.stderr.split('\n').filter((line) => line.startsWith('{"source"')).map((line) => JSON.parse(line) as Letter);
    assert.equal(letters.map((letter) => [letter.line, letter.attempts, letter.error.name]), [[51, 1, 'TimeoutError']]);
    // The records in flight beside it were rerun without using an attempt: no retries counted.
    assert.match(result.stderr, /"retries":0/);
  }
});

test('start-up: a command not found, not executable, or ending before it reads is a usage error (exit 2) before any input is read', async () => {
  const dir = scratch();
  const script = join(dir, 'script.sh');
  writeFileSync(script, '#!/bin/sh\ncat\n');
  chmodSync(script, 0o644);
  const broken = join(dir, 'broken.py');
  writeFileSync(broken, 'def f(:\n');
  for (const [argv, message] of [
    [['no-such-command-here'], /^op map: cannot run no-such-command-here: not found on PATH$/m],
    [[script], /^op map: cannot run \S+script\.sh: permission denied \(is it executable\?\)$/m],
    [['sh', '-c', 'echo bye >&2; exit 3'], /^\[op map exec#1\] bye\n(.*\n)*op map: sh -c 'echo bye >&2; exit 3' exited with status 3 before reading any input$/m],
    [['sh', '-c', 'echo banner; exec cat'], /^op map: sh -c 'echo banner; exec cat' wrote to stdout before reading any input: "banner\\n"$/m],
    [['python3', broken], /^op map: python3 \S+broken\.py exited with status 1 before reading any input$/m],
  ] as const) {
    // stdin stays open: op must not wait for input to find out.
    const op = startOp(['map', '-w', '2', '--', ...argv]);
    const status = await op.closed;
    assert.is(status, 2, op.out.stderr);
    assert.match(op.out.stderr, message);
    assert.is(op.out.stdout, '');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('end of input: children get EOF and are waited for; one still running after --stop-timeout is killed with a warning; a failing exit status fails the run', async () => {
  const linger = await runOp(['map', '-w', '2', '--stop-timeout', '300', '--', 'python3', FAULTY, '--linger', '--ignore-term'], { input: records(100, () => ({ pid: true })), env: SMALL });
  assert.is(linger.status, 0, linger.stderr);
  assert.is(lines(linger.stdout).length, 100);
  assert.match(linger.stderr, /^op map: exec#[12] did not exit within 300 ms of the end of its input; killed$/m);
  for (const pid of pidsIn(linger.stdout)) assert.is(isGroupAlive(pid), false, `child ${pid} outlived op`);
  const failing = await runOp(['map', '--', 'python3', FAULTY, '--exit', '4'], { input: records(3) });
  assert.is(failing.status, 1);
  assert.is(failing.stdout, records(3));
  assert.match(failing.stderr, /^op map: exec#1 \(python3 \S+faulty\.py --exit 4\) exited with status 4 after its input ended$/m);
});

test('PYTHONUNBUFFERED=1 is set for the children: a print() loop answers each record as it comes, with the variable removed from op’s environment', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PYTHONUNBUFFERED;
  const child = spawn(process.execPath, [OP, 'map', '--', 'python3', '-c', 'import sys\nfor l in sys.stdin: print(l, end="")'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  const closed = new Promise((resolve) => child.on('close', resolve));
  // Each record is written only once the previous one came back: a reply held in the child's buffer would stop this for ever.
  for (let id = 0; id < 5; id++) {
    child.stdin.write(`{"id":${id}}\n`);
    const deadline = Date.now() + 20_000;
    while (lines(stdout).length < id + 1) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        assert.unreachable(`record ${id} never came back: the child's stdout is buffered`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  child.stdin.end();
  await closed;
  assert.equal(ids(stdout), range(5));
});

/** The pids the children wrote to stderr (faulty.py --say-pid). */
function pidsSaid(stderr: string): number[] {
  return [...stderr.matchAll(/^\[op map exec#\d\] pid (\d+)$/gm)].map((match) => Number(match[1]));
}

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${signal} with -w 2: records in flight finish, the children end, exit ${code}, output in whole lines`, async () => {
    const op = startOp(['map', '-w', '2', '--', 'python3', FAULTY, '--say-pid'], SMALL);
    op.child.stdin.write(records(400, () => ({ pad: 'z'.repeat(40) })));
    await op.until(() => pidsSaid(op.out.stderr).length === 2 && lines(op.out.stdout).length > 0, 'both children to start and output to come');
    op.child.kill(signal);
    const status = await op.closed;
    assert.is(status, code, op.out.stderr);
    assert.ok(op.out.stdout.endsWith('\n'));
    // What was read before the signal is written whole and in order; nothing after it is read.
    const written = ids(op.out.stdout);
    assert.equal(written, range(written.length));
    for (const pid of pidsSaid(op.out.stderr)) assert.is(isGroupAlive(pid), false, `child ${pid} outlived op`);
  });

  test(`${signal} with a stuck record in a child that ignores SIGTERM: after --stop-timeout it is named, the child killed, exit ${code}`, async () => {
    const op = startOp(['map', '-w', '2', '--stop-timeout', '300', '--', 'python3', FAULTY, '--ignore-term', '--say-pid'], SMALL);
    op.child.stdin.write(records(100, (id) => (id === 60 ? { hang: true } : {})));
    // The records before it wait with it: a chunk's result is written whole.
    await op.until(() => op.out.stderr.includes('hanging on record 60') && pidsSaid(op.out.stderr).length === 2, 'the stuck record to be running');
    op.child.kill(signal);
    const status = await op.closed;
    assert.is(status, code, op.out.stderr);
    assert.match(op.out.stderr, new RegExp(`stdin:61: not finished: stopped by ${signal}`));
    assert.ok(op.out.stdout.endsWith('\n'));
    assert.equal(ids(op.out.stdout), range(60));
    for (const pid of pidsSaid(op.out.stderr)) assert.is(isGroupAlive(pid), false, `child ${pid} outlived op`);
  });
}

test('a reply when no record is in flight breaks the protocol: the child is replaced, with a notice', async () => {
  // The last record is answered twice: the second line answers nothing.
  const result = await runOp(['map', '--', 'python3', FAULTY], { input: records(5, (id) => (id === 4 ? { extra: true } : {})) });
  assert.is(result.status, 0, result.stderr);
  assert.equal(ids(result.stdout), range(5));
  assert.match(result.stderr, /^op map: exec#1 broke the protocol: a reply to a line that was never sent; replacing it$/m);
});

test('a closed stdout ends the run quietly with status 0 and stops the children', async () => {
  const result = await runOp(['map', '-w', '2', '--', 'sh', '-c', `python3 ${FAULTY} | head -c 100000000`], { input: records(5000, () => ({ pid: true })) });
  assert.is(result.status, 0, result.stderr);
  const dir = scratch();
  const pids = join(dir, 'pids');
  const piped = await new Promise<number | null>((resolve) => {
    const sh = spawn('/bin/sh', ['-c', `"${process.execPath}" "${OP}" map -w 2 -- python3 "${FAULTY}" | tee "${pids}" | head -1 >/dev/null`], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, ...SMALL } });
    sh.stdin.on('error', () => {});
    sh.stdin.end(records(20_000, () => ({ pid: true })));
    sh.on('close', resolve);
  });
  assert.is(piped, 0);
  for (const pid of pidsIn(readFileSync(pids, 'utf8').split('\n').slice(0, -1).join('\n'))) assert.is(isGroupAlive(pid), false, `child ${pid} outlived op`);
  rmSync(dir, { recursive: true, force: true });
});

test('the Python helper: setup and ctx, map, filter, slice and batch from one file; an exception fails its record with type, message and frame', async () => {
  const people = readFileSync(join(FIXTURES, 'people.ndjson'), 'utf8');
  const mapped = await runOp(['map', '--protocol', 'json', '--config', '{"threshold":0.9}', '--', 'python3', SCORE], { input: people });
  assert.is(mapped.status, 0, mapped.stderr);
  assert.equal((lines(mapped.stdout) as Array<{ pass: boolean }>).map((r) => r.pass), [true, false, false, true, false, false, false, false]);
  assert.match(mapped.stderr, /^\[op map exec#1\] setup: threshold 0.9$/m);
  const kept = await runOp(['filter', '--protocol', 'json', '--', 'python3', SCORE], { input: people });
  assert.equal(ids(kept.stdout), [1, 3, 4, 6]);
  const tags = await runOp(['slice', '--protocol', 'json', '-w', '2', '--', 'python3', SCORE], { input: people, env: { OP_EXEC_CHUNK_BYTES: '100' } });
  assert.is(lines(tags.stdout).length, 13);
  const batches = await runOp(['batch', '--size', '3', '--protocol', 'json', '--', 'python3', SCORE], { input: people });
  assert.equal(lines(batches.stdout), [{ ids: [1, 2, 3], mean: 0.837 }, { ids: [4, 5, 6], mean: 0.817 }, { ids: [7, 8], mean: 0.635 }]);
  const failed = await runOp(['map', '--protocol', 'json', '--errors', '/dev/stdout', '--quiet', '--', 'python3', SCORE], { input: '{"id":1,"name":"x"}\n' });
  assert.is(failed.status, 3);
  const [letter] = lines(failed.stdout) as Letter[];
  assert.equal([letter!.error.name, letter!.error.message], ['KeyError', "'score'"]);
  assert.match(letter!.error.at!, /^fixtures\/python\/score\.py:\d+ in handle$/);
});

test('the Python helper runs an async handler with concurrency, replies in any order, and keeps print() off the protocol', async () => {
  const dir = scratch();
  const script = join(dir, 'slow.py');
  writeFileSync(
    script,
    'import asyncio\nfrom opkit import run\n\nasync def handle(record, ctx):\n    print("working on", record["id"])\n    await asyncio.sleep(0.2 if record["id"] % 2 else 0)\n    return {"id": record["id"], "worker": ctx.worker_id}\n\nrun(handle, concurrency=50)\n',
  );
  const started = Date.now();
  const result = await runOp(['map', '--protocol', 'json', '--', 'python3', script], { input: records(100) });
  assert.is(result.status, 0, result.stderr);
  assert.equal(ids(result.stdout), range(100));
  assert.match(result.stderr, /^\[op map exec#1\] working on 1$/m);
  // 50 records of 0.2 s, 50 at once: well under the 10 s they take one after another.
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  rmSync(dir, { recursive: true, force: true });
});

test('--journal: a rerun with the same journal runs no record again', async () => {
  const dir = scratch();
  const journal = join(dir, 'run.journal');
  const seen = join(dir, 'seen');
  const counter = `import sys\nfor l in sys.stdin:\n  open("${seen}", "a").write(l)\n  print(l, end="")`;
  const first = await runOp(['map', '--journal', journal, '--', 'python3', '-c', counter], { input: records(30) });
  assert.is(first.status, 0, first.stderr);
  const again = await runOp(['map', '--journal', journal, '--', 'python3', '-c', counter], { input: records(30) });
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, records(30));
  assert.is(readFileSync(seen, 'utf8').split('\n').length - 1, 30);
  assert.ok(existsSync(journal));
  rmSync(dir, { recursive: true, force: true });
});

test('usage: HANDLER and a command together, neither, an empty command, and command-only flags without one are refused (exit 2)', async () => {
  for (const [args, message] of [
    [['map', 'r', '--', 'cat'], /give HANDLER or a command after --, not both/],
    [['map'], /missing HANDLER: an expression, a function, a module path, or a command after --/],
    [['map', '--'], /missing COMMAND after --/],
    [['map', 'r', '--protocol', 'json'], /--protocol applies to a command given after --/],
    [['map', 'r', '--max-restarts', '3'], /--max-restarts applies to a command given after --/],
    [['map', '-c', '4', '--', 'cat'], /--concurrency applies to a JS HANDLER/],
  ] as const) {
    const result = await runOp([...args], { input: '{"a":1}\n' });
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test.run();

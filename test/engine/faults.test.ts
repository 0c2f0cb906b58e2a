import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until } from '../helpers/poll-files.js';
import { OP, lines, runOp, runProcess } from '../helpers/run-op.js';

const three = '{"a":1}\n{"a":2}\n{"a":3}\n';
const stuck = 'r.a === 2 ? new Promise(() => {}) : r';

test('a handler call that never settles fails its record; the finished ones are written and nothing hangs', async () => {
  const inline = await runOp(['map', stuck], { input: three, timeoutMs: 20_000 });
  assert.is(inline.status, 1);
  assert.is(inline.stdout, '{"a":1}\n');
  assert.match(inline.stderr, /stdin:2: UnsettledError: handler never settled/);
  const concurrent = await runOp(['map', stuck, '-c', '4', '--errors', '/dev/null'], { input: three, timeoutMs: 20_000 });
  assert.is(concurrent.status, 3);
  assert.is(concurrent.stdout, '{"a":1}\n{"a":3}\n');
  const threads = await runOp(['map', stuck, '-w', '2'], { input: three, timeoutMs: 20_000 });
  assert.is(threads.status, 1);
  assert.is(threads.stdout, '{"a":1}\n');
  assert.match(threads.stderr, /stdin:2: UnsettledError: handler never settled/);
});

test('SIGTERM with a stuck record: after --stop-timeout the finished records are written, the stuck one named, exit 143', async () => {
  for (const extra of [[], ['-w', '2']]) {
    const child = spawn(process.execPath, [OP, 'map', 'r.a === 2 ? new Promise((resolve) => setTimeout(resolve, 60_000)) : r', '--stop-timeout', '300', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdin.on('error', () => {});
    child.stdin.write('{"a":1}\n{"a":2}\n');
    // Kept open: the stop, not the end of input, ends the run.
    const closed = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    setTimeout(() => child.kill('SIGTERM'), 1500);
    const status = await closed;
    assert.is(status, 143, `${extra.join(' ')} ${stderr}`);
    assert.match(stderr, /stdin:2: not finished: stopped by SIGTERM/);
    assert.is(stdout, '{"a":1}\n', extra.join(' '));
  }
});

test('-w 2 stopped with stuck records: every finished record is written in order, each stuck one named', async () => {
  // 40 records over two workers in small tasks; records 10 and 30 never settle.
  const input = Array.from({ length: 40 }, (_, k) => `{"k":${k}}\n`).join('');
  const child = spawn(process.execPath, [OP, 'map', '[10, 30].includes(r.k) ? new Promise(() => setTimeout(() => {}, 60_000)) : r.k', '-w', '2', '--stop-timeout', '300'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, OP_CHUNK_BYTES: '64' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin.on('error', () => {});
  child.stdin.write(input);
  const closed = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  // Records 8 and 9 share a task with stuck record 10: they come back only with the stop.
  await until(() => stdout.split('\n').length > 5, 'the first records');
  child.kill('SIGTERM');
  const status = await closed;
  assert.is(status, 143, stderr);
  assert.equal(lines(stdout), [...Array(10).keys()], 'in order, up to the first stuck record');
  assert.match(stderr, /stdin:11: not finished: stopped by SIGTERM/);
});

test('process.exit() in an inline handler fails its record; everything else is written', async () => {
  const result = await runOp(['map', 'r === 3 ? process.exit(0) : r', '--errors', '/dev/stderr', '--quiet'], { input: '1\n2\n3\n4\n5\n' });
  assert.is(result.status, 3);
  assert.is(result.stdout, '1\n2\n4\n5\n');
  const [letter] = lines(result.stderr) as Array<{ line: number; error: { message: string } }>;
  assert.is(letter!.line, 3);
  assert.is(letter!.error.message, 'handler called process.exit(0)');
  // Without --errors: the records before it are written, and the run fails naming it.
  const stopped = await runOp(['map', 'r === 50000 ? process.exit(0) : r'], { input: Array.from({ length: 60_000 }, (_, k) => `${k + 1}\n`).join('') });
  assert.is(stopped.status, 1);
  assert.is(lines(stopped.stdout).length, 49_999);
  assert.match(stopped.stderr, /^op map: stdin:50000: .*handler called process\.exit\(0\)/m);
});

test('-w 2: any number of records calling process.exit are isolated and dead-lettered', async () => {
  const input = Array.from({ length: 2000 }, (_, k) => `${k + 1}\n`).join('');
  const result = await runOp(['map', '[3, 500, 1999].includes(r) ? process.exit(0) : r', '-w', '2', '--errors', '/dev/stderr', '--quiet'], { input });
  assert.is(result.status, 3, result.stderr);
  assert.equal(lines(result.stdout), Array.from({ length: 2000 }, (_, k) => k + 1).filter((k) => ![3, 500, 1999].includes(k)));
  const letters = lines(result.stderr) as Array<{ line: number; error: { message: string } }>;
  assert.equal(letters.map((letter) => letter.line), [3, 500, 1999]);
  for (const letter of letters) assert.match(letter.error.message, /handler called process\.exit\(0\)/);
});

test("a handler's own writes to process.stdout go to stderr, in every executor", async () => {
  for (const extra of [[], ['-w', '2'], ['-c', '4']]) {
    const result = await runOp(['map', '(process.stdout.write("JUNK"), r)', ...extra], { input: '{"a":1}\n' });
    assert.is(result.stdout, '{"a":1}\n', extra.join(' '));
    assert.match(result.stderr, /op map: JUNK/);
  }
});

test('a full disk on --out or stdout is a failure that names the file', async () => {
  const out = await runOp(['map', 'r', '--out', '/dev/full'], { input: '1\n'.repeat(100_000) });
  assert.is(out.status, 1);
  assert.match(out.stderr, /^op map: \/dev\/full: no space left on device$/m);
  const full = openSync('/dev/full', 'w');
  const stdout = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [OP, 'map', 'r'], { stdio: ['pipe', full, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stderr }));
    // op stops reading once stdout fails: the rest of this input meets a closed pipe.
    child.stdin!.on('error', () => {});
    child.stdin!.end('1\n'.repeat(100_000));
  });
  closeSync(full);
  assert.is(stdout.status, 1);
  assert.is(stdout.stderr, 'op map: stdout: no space left on device\n');
});

test('a full disk fails filter, slice and batch too, and --errors and --split files', async () => {
  const input = '{"a":1}\n'.repeat(100_000);
  for (const args of [['filter', 'true'], ['slice'], ['batch', '--size', '2'], ['filter', 'true', '-w', '2']]) {
    const command = args[0]!;
    const result = await runOp([...args, '--out', '/dev/full'], { input });
    assert.is(result.status, 1, `${args.join(' ')} ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^op ${command}: /dev/full: no space left on device$`, 'm'));
  }
  const errors = await runOp(['map', 'r.x.y', '--errors', '/dev/full'], { input: '1\n'.repeat(100_000) });
  assert.is(errors.status, 1, errors.stderr);
  assert.match(errors.stderr, /^op map: \/dev\/full: no space left on device; \d+ dead letters not written$/m);
  const dir = mkdtempSync(join(tmpdir(), 'opkit-full-'));
  symlinkSync('/dev/full', join(dir, 'part-1.ndjson'));
  const split = await runOp(['shard', '--split', join(dir, 'part-{rank}.ndjson'), '--world', '2'], { input });
  rmSync(dir, { recursive: true, force: true });
  assert.is(split.status, 1, split.stderr);
  assert.match(split.stderr, /part-1\.ndjson: no space left on device/);
});

test('a write that fails on the journal, --out or --errors ends the run with exit 1, naming the file', async () => {
  // A file size limit makes the writes past 256 KiB fail (EFBIG), as a full disk would (ENOSPC).
  const dir = mkdtempSync(join(tmpdir(), 'opkit-fsize-'));
  const limited = (args: string) => runProcess('bash', ['-c', `trap "" XFSZ; ulimit -f 256; seq 1 300000 | exec "${process.execPath}" "${OP}" ${args}`], { cwd: dir });
  const journal = await limited('map r --journal j.ndjson > /dev/null');
  assert.is(journal.status, 1, journal.stderr);
  assert.match(journal.stderr, /^op map: --journal j\.ndjson: cannot write: file too large$/m);
  const out = await limited('map r --out o.ndjson');
  assert.is(out.status, 1, out.stderr);
  assert.match(out.stderr, /^op map: o\.ndjson: file too large$/m);
  const errors = await limited('map r.x.y --errors e.ndjson');
  assert.is(errors.status, 1, errors.stderr);
  assert.match(errors.stderr, /^op map: e\.ndjson: file too large; \d+ dead letters not written$/m);
  // A journal that is not a file (it could never be read back) is refused.
  const device = await runOp(['map', 'r', '--journal', '/dev/full'], { input: '1\n' });
  rmSync(dir, { recursive: true, force: true });
  assert.is(device.status, 2, device.stderr);
  assert.match(device.stderr, /--journal \/dev\/full: not a regular file/);
  // With -w the threads start while the run is checked; refused, it ends them without waiting for their setup().
  const slowSetup = join(tmpdir(), `opkit-slow-setup-${process.pid}.mjs`);
  writeFileSync(slowSetup, 'export const setup = () => new Promise((done) => setTimeout(done, 60_000));\nexport default (r) => r;\n');
  const threaded = await runOp(['map', slowSetup, '-w', '2', '--journal', '/dev/full'], { input: '1\n', timeoutMs: 20_000 });
  rmSync(slowSetup, { force: true });
  assert.is(threaded.status, 2, threaded.stderr);
  assert.is(threaded.stderr, 'op map: --journal /dev/full: not a regular file; the journal is read back to resume\n');
});

test('a broken --errors pipe is a failure that counts the dead letters lost', async () => {
  const result = await runProcess('bash', ['-c', `seq 1 50000 | "${process.execPath}" "${OP}" map 'r.x.y' --errors >(head -1 > /dev/null)`]);
  assert.is(result.status, 1);
  assert.match(result.stderr, /op map: --errors: broken pipe; \d+ dead letters not written/);
});

test('an unreadable --in is a usage error naming the file and "permission denied"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-eacces-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'in.ndjson');
  writeFileSync(file, '1\n');
  chmodSync(file, 0o000);
  // As an unprivileged user: root reads any file.
  const result = await runProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, OP, 'map', 'r', '--in', file]);
  rmSync(dir, { recursive: true, force: true });
  assert.is(result.status, 2, result.stderr);
  assert.match(result.stderr, /--in .*in\.ndjson: permission denied/);
});

test('a dead letter carries the record as read, and every attempt gets a fresh copy', async () => {
  const handler = '(r.n = (r.n || 0) + 1, r.self = r, r.big = 1n, (() => { throw new Error("n=" + r.n) })())';
  const result = await runOp(['map', handler, '--retries', '2', '--retry-delay', '0', '--errors', '/dev/stdout', '--quiet'], { input: '{"a":1}\n' });
  assert.is(result.status, 3, result.stderr);
  const [letter] = lines(result.stdout) as Array<{ input: unknown; error: { message: string }; attempts: number }>;
  assert.equal(letter!.input, { a: 1 });
  assert.is(letter!.error.message, 'n=1');
  assert.is(letter!.attempts, 3);
});

test('a revoked Proxy, or a value whose toString and getters throw, is dead-lettered under its type name', async () => {
  const handlers = [
    '(() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy })()',
    '(() => { throw { get message() { throw 1 }, get name() { throw 1 }, toString() { throw 1 } } })()',
    '(() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy })()',
  ];
  for (const extra of [[], ['-w', '2'], ['-c', '4']]) {
    for (const handler of handlers) {
      const result = await runOp(['map', handler, '--errors', '/dev/stdout', '--quiet', ...extra], { input: '{"a":1}\n{"a":2}\n' });
      assert.is(result.status, 3, `${handler} ${extra.join(' ')} ${result.stderr}`);
      const letters = lines(result.stdout) as Array<{ line: number; input: unknown; error: { message: string } }>;
      assert.equal(letters.map((letter) => letter.line), [1, 2]);
      assert.equal(letters[0]!.input, { a: 1 });
      assert.type(letters[0]!.error.message, 'string');
    }
    // Without --errors the run stops at the first, with its place.
    const stopped = await runOp(['map', handlers[0]!, ...extra], { input: '{"a":1}\n' });
    assert.is(stopped.status, 1);
    assert.match(stopped.stderr, /^op map: stdin:1: /);
  }
});

test('a dead letter carries the record as read in every executor, whether it threw or timed out', async () => {
  const handler = 'r.a === 1 ? (r.a = 99, new Promise(() => setTimeout(() => {}, 60_000))) : (r.a = 99, (() => { throw new Error("no") })())';
  for (const extra of [[], ['-w', '2'], ['-c', '4']]) {
    const result = await runOp(['map', handler, '--timeout', '200', '--errors', '/dev/stdout', '--quiet', ...extra], { input: '{"a":1}\n{"a":2}\n', timeoutMs: 20_000 });
    assert.is(result.status, 3, `${extra.join(' ')} ${result.stderr}`);
    // Dead letters are written as they happen: with -c 4 the throw comes before the timeout.
    const letters = (lines(result.stdout) as Array<{ line: number; input: unknown; error: { name: string } }>).sort((a, b) => a.line - b.line);
    assert.equal(letters.map((letter) => [letter.line, letter.input, letter.error.name]), [[1, { a: 1 }, 'TimeoutError'], [2, { a: 2 }, 'Error']], extra.join(' '));
  }
});

test('the -w ceiling and the --max-errors bound are documented in the help', async () => {
  const help = await runOp(['map', '--help']);
  assert.match(help.stdout.replace(/\s+/g, ' '), /At most 4 per core and one per 64 MiB of memory/);
  assert.match(help.stdout.replace(/\s+/g, ' '), /with -w, up to N - 1 more may be dead-lettered/);
});

test('a thrown value that cannot be described is still dead-lettered', async () => {
  const handler = '(() => { throw new Proxy({}, { get() { throw 1 }, getPrototypeOf() { throw 1 }, ownKeys() { throw 1 } }) })()';
  const result = await runOp(['map', handler, '--errors', '/dev/stdout', '--quiet'], { input: '{"a":1}\n{"a":2}\n' });
  assert.is(result.status, 3, result.stderr);
  assert.is(lines(result.stdout).length, 2);
});

test('the stats of a run stopped by a bad record balance', async () => {
  const result = await runOp(['map', 'r', '--stats'], { input: '1\n{\n3\n' });
  assert.is(result.status, 1);
  const stats = JSON.parse(result.stderr.split('\n').find((line) => line.startsWith('{"in"'))!) as { in: number; out: number; dropped: number; errors: number };
  assert.is(stats.in, stats.out + stats.dropped + stats.errors);
  assert.is(stats.errors, 1);
});

test('a small input reaches every worker: tasks start small', async () => {
  const input = Array.from({ length: 400 }, (_, k) => JSON.stringify({ k, pad: 'x'.repeat(100) }) + '\n').join('');
  const result = await runOp(['map', '(() => { const t = Date.now(); while (Date.now() - t < 1); return ctx.workerId })()', '-w', '2'], { input });
  assert.is(result.status, 0, result.stderr);
  assert.equal([...new Set(lines(result.stdout))].sort(), [1, 2]);
});

test('an input that is also the output or the errors file is refused before anything is opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-same-'));
  const file = join(dir, 'f.ndjson');
  writeFileSync(file, '{"a":1}\n');
  for (const flag of ['--out', '--errors']) {
    const result = await runOp(['map', 'r', '--in', file, flag, `${dir}/./f.ndjson`]);
    assert.is(result.status, 2, flag);
    assert.match(result.stderr, /input file is also the output file/);
  }
  const kept = await runProcess('cat', [file]);
  rmSync(dir, { recursive: true, force: true });
  assert.is(kept.stdout, '{"a":1}\n', 'the input is untouched');
});

test('--errors that is also --out (a path, ./path or a symlink, existing or not) is refused before anything is opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-same-out-'));
  const input = join(dir, 'in.ndjson');
  writeFileSync(input, '{"a":1}\n');
  const out = join(dir, 'out.ndjson');
  symlinkSync(out, join(dir, 'link.ndjson'));
  for (const existing of [false, true]) {
    if (existing) writeFileSync(out, 'kept\n');
    for (const errors of [out, `${dir}/./out.ndjson`, join(dir, 'link.ndjson')]) {
      const result = await runOp(['map', 'r.x.y', '--in', input, '--out', out, '--errors', errors]);
      assert.is(result.status, 2, `${errors} ${result.stderr}`);
      assert.match(result.stderr, /--errors .*: the errors file is also the output file/);
      assert.is(existsSync(out) ? readFileSync(out, 'utf8') : undefined, existing ? 'kept\n' : undefined, 'nothing was opened');
    }
  }
  // stdout into a file, and --errors naming that file.
  const shell = await runProcess('bash', ['-c', `"${process.execPath}" "${OP}" map 'r.x.y' --in "${input}" --errors "${out}" >> "${out}"`]);
  assert.is(shell.status, 2, shell.stderr);
  assert.match(shell.stderr, /the errors file is also the output file/);
  // Both on the process's own stdout is one stream, not two writers: allowed.
  const shared = await runOp(['map', 'r.x.y', '--in', input, '--errors', '/dev/stdout', '--quiet']);
  assert.is(shared.status, 3, shared.stderr);
  rmSync(dir, { recursive: true, force: true });
});

const outOfRange = ['1', '{"a":1e400}', '-1e400', '[1,{"b":[2E+999]}]', '1e300', '"1e400"', '1e-400', '1' + '0'.repeat(400), '{"s":"e999","n":3}', ''].join('\n');

test('with -w N the main thread finds the suspect numbers, and the workers mark the same lines as inline, across pieces', async () => {
  // ~300 KiB: each task is cut into 112 KiB pieces in the worker, so suspects cross piece edges.
  const rows: string[] = [];
  for (let i = 0; i < 6000; i++) rows.push(i % 997 === 5 ? `{"i":${i},"v":1e400}` : i % 1301 === 7 ? `{"i":${i},"v":${'9'.repeat(320)}}` : `{"i":${i},"pad":"${'x'.repeat(30)}"}`);
  const input = `${rows.join('\n')}\n`;
  const runs = await Promise.all([[], ['-w', '1'], ['-w', '2']].map((extra) => runOp(['map', 'r', '--errors', '/dev/stderr', '--quiet', ...extra], { input })));
  const bad = rows.flatMap((row, i) => (row.includes('1e400') || row.includes('9'.repeat(320)) ? [i + 1] : []));
  for (const [k, result] of runs.entries()) {
    assert.is(result.status, 3, result.stderr);
    const letters = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { line: number }).line);
    assert.equal(letters, bad, `run ${k}`);
    assert.is(result.stdout, runs[0]!.stdout, `run ${k}: the same records out`);
  }
});

test('numbers beyond the double range are invalid lines, dead-lettered like any other, in every executor', async () => {
  for (const extra of [[], ['-w', '2'], ['-c', '4']]) {
    const result = await runOp(['map', 'r', '--errors', '/dev/stderr', '--quiet', '--stats', ...extra], { input: outOfRange });
    assert.is(result.status, 3, `${extra.join(' ')} ${result.stderr}`);
    assert.equal(lines(result.stdout), [1, 1e300, '1e400', 0, { s: 'e999', n: 3 }], extra.join(' '));
    const said = result.stderr.split('\n').filter((line) => line !== '');
    const letters = said.slice(0, -1).map((line) => JSON.parse(line) as { line: number; input: unknown; stage: string; error: { message: string } });
    assert.equal(letters.map((letter) => letter.line), [2, 3, 4, 8], extra.join(' '));
    for (const letter of letters) {
      assert.is(letter.stage, 'parse');
      assert.match(letter.error.message, /^number out of range at position \d+$/);
      assert.type(letter.input, 'string', 'the line as read: its value has no JSON form');
    }
    assert.equal(JSON.parse(said.at(-1)!).errors, 4);
  }
  const filter = await runOp(['filter', 'true', '--errors', '/dev/null', '--quiet'], { input: outOfRange });
  assert.is(filter.status, 3);
  assert.equal(lines(filter.stdout), [1, 1e300, '1e400', 0, { s: 'e999', n: 3 }]);
});

test('without --errors, the first number beyond the range stops the run at its place, with a caret', async () => {
  for (const extra of [[], ['-w', '2']]) {
    const result = await runOp(['map', 'r', ...extra], { input: '1\n2\n{"a": [1, -1e400]}\n4\n' });
    assert.is(result.status, 1);
    assert.is(result.stdout, '1\n2\n');
    assert.is(result.stderr, 'op map: stdin:3: InputError: number out of range at position 10\n  {"a": [1, -1e400]}\n            ^\n', extra.join(' '));
  }
});

test('shard --by key, merge --key and reduce refuse numbers beyond the range too', async () => {
  const input = '{"k":1}\n{"k":2,"v":1e400}\n';
  const shard = await runOp(['shard', '--by', 'key:k', '--rank', '0', '--world', '1'], { input });
  assert.is(shard.status, 1, shard.stderr);
  assert.match(shard.stderr, /stdin:2: .*number out of range/);
  const dir = mkdtempSync(join(tmpdir(), 'opkit-range-'));
  writeFileSync(join(dir, 'a.ndjson'), '{"k":1}\n{"k":1e999}\n');
  writeFileSync(join(dir, 'b.ndjson'), '{"k":2}\n');
  const merge = await runOp(['merge', '--key', 'k', join(dir, 'a.ndjson'), join(dir, 'b.ndjson')]);
  rmSync(dir, { recursive: true, force: true });
  assert.is(merge.status, 1, merge.stderr);
  assert.match(merge.stderr, /a\.ndjson:2: .*number out of range/);
  for (const extra of [[], ['-w', '2']]) {
    const reduce = await runOp(['reduce', '--key', 'k', '--agg', 'count', ...extra], { input });
    assert.is(reduce.status, 1, `${extra.join(' ')} ${reduce.stderr}`);
    assert.match(reduce.stderr, /stdin:2: .*number out of range/);
  }
});

test('--input-format json: the first bad value in a large input is placed at its line, with every value before it written', async () => {
  for (const count of [1001, 200_000]) {
    const input = '[\n' + Array.from({ length: count }, (_, k) => `{"k":${k}},\n`).join('') + 'x]\n';
    const result = await runOp(['map', 'r.k', '--input-format', 'json'], { input });
    assert.is(result.status, 1, String(count));
    assert.is(lines(result.stdout).length, count);
    assert.match(result.stderr, new RegExp(`^op map: stdin:${count + 2}: `), String(count));
  }
});

test('--input-format json: values before a break in the structure are written; the error names its input line', async () => {
  const result = await runOp(['map', 'r', '--input-format', 'json'], { input: '[\n {"a":1},\n {"b":\n 2}, 3\n x]' });
  assert.is(result.status, 1);
  assert.is(result.stdout, '{"a":1}\n{"b":2}\n3\n');
  assert.match(result.stderr, /stdin:5: invalid JSON: expected , or \] after a value/);
});

test('a handler module that leaves a timer running does not hold op after its run: map, a chain and reduce', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-leftover-'));
  try {
    // A ref'd interval, never cleared: without the exit after the run, node would wait on it forever.
    const map = join(dir, 'map.mjs');
    writeFileSync(map, 'setInterval(() => {}, 1000);\nexport default (r) => ({ ...r, seen: true });\n');
    const reduce = join(dir, 'reduce.mjs');
    writeFileSync(reduce, 'setInterval(() => {}, 1000);\nexport const init = () => 0;\nexport const step = (n) => n + 1;\nexport const merge = (a, b) => a + b;\nexport const final = (n) => n;\n');
    const input = '{"k":"a"}\n{"k":"b"}\n{"k":"a"}\n';
    const mapped = await runOp(['map', map], { input, timeoutMs: 20_000 });
    assert.is(mapped.status, 0, mapped.stderr);
    assert.equal(lines(mapped.stdout), [{ k: 'a', seen: true }, { k: 'b', seen: true }, { k: 'a', seen: true }]);
    const chained = await runOp(['map', map, 'then', 'filter', 'r.k === "a"'], { input, timeoutMs: 20_000 });
    assert.is(chained.status, 0, chained.stderr);
    assert.is(lines(chained.stdout).length, 2);
    const reduced = await runOp(['reduce', '-k', 'k', reduce], { input, timeoutMs: 20_000 });
    assert.is(reduced.status, 0, reduced.stderr);
    assert.equal(lines(reduced.stdout), [{ key: { k: 'a' }, value: 2 }, { key: { k: 'b' }, value: 1 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a slow reader of a pipe gets every byte: op leaves only once its output has left it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-slow-reader-'));
  try {
    // Past a pipe's 64 KiB (about 110 KiB, and 290 KiB): the rest still waits in op when its run ends.
    for (const records of [2000, 5000]) {
      const input = join(dir, `in-${records}.ndjson`);
      writeFileSync(input, Array.from({ length: records }, (_, k) => JSON.stringify({ id: k, pad: 'x'.repeat(40) }) + '\n').join(''));
      for (const args of [['map', 'r'], ['filter', 'true'], ['reduce', '-k', 'id', '--agg', 'count']]) {
        const op = [process.execPath, OP, ...args].map((word) => `'${word}'`).join(' ');
        // The reader starts a second after op: op's run is over long before.
        const result = await runProcess('/bin/sh', ['-c', `${op} < '${input}' | (sleep 1; cat) | wc -l`], { timeoutMs: 30_000 });
        assert.is(result.stdout.trim(), String(records), `${args.join(' ')}, ${records} records: ${result.stderr}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

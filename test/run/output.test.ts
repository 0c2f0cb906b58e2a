import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers/run-op.js';
import { makeScratch, OpRun, processesWith, removeScratch, runOpRun, waitUntil } from './op-run.js';

const WRITER = [process.execPath, join(ROOT, 'dist/test/run/chunky-writer.js')];

test('4 workers each write 5 MB of JSON lines in random-sized chunks: every line parses, the count is exact', async () => {
  const result = await runOpRun(['-w', '4', '--', ...WRITER, '5000000'], { timeoutMs: 60_000 });
  assert.is(result.status, 0, result.stderr);
  // Each worker reports how many lines it wrote, on its prefixed stderr.
  const written = new Map<number, number>();
  for (const match of result.stderr.matchAll(/^\[worker-(\d)#0\]\[stderr\] (\d+)$/gm)) written.set(Number(match[1]), Number(match[2]));
  assert.is(written.size, 4, result.stderr);
  const seen = new Map<number, number>();
  const lines = result.stdout.split('\n');
  assert.is(lines.pop(), '', 'the output ends with a newline');
  for (const line of lines) {
    const record = JSON.parse(line) as { rank: number; i: number };
    // Lines of one worker keep their order.
    assert.is(record.i, seen.get(record.rank) ?? 0);
    seen.set(record.rank, record.i + 1);
  }
  for (const [rank, count] of written) assert.is(seen.get(rank), count, `worker ${rank}`);
  assert.ok(result.stdout.length >= 4 * 5_000_000);
});

test('an unterminated last line is completed; --stdout prefix tags stdout lines like stderr', async () => {
  const plain = await runOpRun(['-w', '2', '--', 'sh', '-c', 'printf "a\\nb"; printf "c" >&2']);
  assert.equal(plain.stdout.split('\n').filter(Boolean).sort(), ['a', 'a', 'b', 'b']);
  assert.ok(plain.stdout.endsWith('\n'));
  assert.equal(plain.stderr.split('\n').filter(Boolean).sort(), ['[worker-0#0][stderr] c', '[worker-1#0][stderr] c']);
  const prefixed = await runOpRun(['-w', '2', '--stdout', 'prefix', '--', 'sh', '-c', 'echo "one $OP_RANK"; printf "two"']);
  assert.equal(prefixed.stdout.split('\n').filter(Boolean).sort(), ['[worker-0#0][stdout] one 0', '[worker-0#0][stdout] two', '[worker-1#0][stdout] one 1', '[worker-1#0][stdout] two']);
});

test('the generation in the prefix follows restarts', async () => {
  const result = await runOpRun(['-w', '1', '--restart', '1', '--restart-delay', '0.01', '--stdout', 'prefix', '--', 'sh', '-c', 'echo out; echo err >&2; exit $((1 - OP_RESTART_COUNT))']);
  assert.is(result.status, 0);
  assert.is(result.stdout, '[worker-0#0][stdout] out\n[worker-0#1][stdout] out\n');
  assert.match(result.stderr, /\[worker-0#0\]\[stderr\] err\n(.|\n)*\[worker-0#1\]\[stderr\] err\n/);
});

test("--stdout 'FILE-{rank}.ndjson': one file per worker, {rank} and {local_rank} filled in", async () => {
  const dir = makeScratch('stdout-files');
  const result = await runOpRun(['-w', '2', '--nodes', '2', '--node-rank', '1', '--stdout', join(dir, 'out-{rank}-{local_rank}.ndjson'), '--', 'sh', '-c', 'echo "{\\"rank\\":$OP_RANK}"; printf "{}"']);
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, '');
  assert.is(readFileSync(join(dir, 'out-2-0.ndjson'), 'utf8'), '{"rank":2}\n{}\n');
  assert.is(readFileSync(join(dir, 'out-3-1.ndjson'), 'utf8'), '{"rank":3}\n{}\n');
  removeScratch(dir);
});

test('a closed stdout (op run … | head -1) stops the workers; exit 0', async () => {
  const marker = `op-run-closed-${process.pid}`;
  const run = new OpRun(['-w', '2', '--stop-timeout', '5', '--', 'sh', '-c', 'while :; do echo "{}"; done', marker]);
  await waitUntil(() => run.stdout.length > 0, 'the first line');
  run.child.stdout!.destroy();
  const { status } = await run.result(20_000);
  assert.is(status, 0, run.stderr);
  assert.equal(processesWith(marker).filter((pid) => pid !== run.child.pid), []);
});

test('a process that left the worker group but holds its stdout cannot keep op run open', async () => {
  const marker = `300.${process.pid}7`;
  const run = new OpRun(['-w', '1', '--', 'sh', '-c', 'setsid sleep "$1" & echo started', 'sh', marker]);
  try {
    const { status } = await run.result(20_000);
    assert.is(status, 0, run.stderr);
    assert.is(run.stdout, 'started\n');
  } finally {
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  }
});

test.run();

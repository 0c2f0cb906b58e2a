import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, readEvents, removeScratch, runOpRun } from './op-run.js';

// Short restart delays keep these tests quick; the policy is the same at 1 s.
const QUICK = ['--restart-delay', '0.02'];

test('--failure-exit shutdown: one worker exits 3 after 1 s while the others sleep; op run exits 3 within 2 s', async () => {
  const dir = makeScratch('failure-shutdown');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '4', '--failure-exit', 'shutdown', '--events', events, '--', 'sh', '-c', 'if [ "$OP_RANK" = 2 ]; then sleep 1; exit 3; fi; exec sleep 300']);
  const ended = Date.now();
  assert.is(result.status, 3, result.stderr);
  assert.match(result.stderr, /worker-2 failed with 3: stopping the others/);
  const lines = readEvents(events);
  // Counted from the first worker's start, so that node's own start-up is not in it.
  const firstStart = Math.min(...lines.filter((line) => line.event === 'start').map((line) => Date.parse(line.time)));
  assert.ok(ended - firstStart < 2000, `op run exited ${ended - firstStart} ms after its first worker started`);
  assert.equal(lines.filter((line) => line.event === 'shutdown').map((line) => [line.worker, line.reason, line.by]).sort(), [[0, 'failure-exit', 2], [1, 'failure-exit', 2], [3, 'failure-exit', 2]]);
  assert.equal(lines.find((line) => line.event === 'exit' && line.worker === 2)?.code, 3);
  removeScratch(dir);
});

test('--failure-exit ignore (the default): the others run to their end; the status is the sum', async () => {
  const result = await runOpRun(['-w', '3', '--', 'sh', '-c', 'if [ "$OP_RANK" = 0 ]; then exit 3; fi; sleep 0.3; echo done']);
  assert.is(result.status, 3);
  assert.is(result.stdout, 'done\ndone\n');
});

test('exit statuses 100, 100 and 100 give 255, not 44; statuses that fit are summed', async () => {
  const big = await runOpRun(['-w', '3', '--', 'sh', '-c', 'exit 100']);
  assert.is(big.status, 255);
  const small = await runOpRun(['-w', '3', '--', 'sh', '-c', 'exit $((OP_RANK + 1))']);
  assert.is(small.status, 6);
});

test('--restart 2: a worker that fails twice then succeeds ends with exit 0', async () => {
  const dir = makeScratch('restart-2');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '1', '--restart', '2', ...QUICK, '--events', events, '--', 'sh', '-c', 'echo "gen $OP_RESTART_COUNT"; [ "$OP_RESTART_COUNT" -ge 2 ] || exit 7']);
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, 'gen 0\ngen 1\ngen 2\n');
  assert.equal(readEvents(events).map((line) => `${line.event}#${line.generation}`), ['start#0', 'exit#0', 'restart#0', 'start#1', 'exit#1', 'restart#1', 'start#2', 'exit#2']);
  assert.match(result.stderr, /worker-0#0: exit 7 after \d+ ms; restart 1 in \d+ ms/);
  removeScratch(dir);
});

test('--restart 1: a worker that keeps failing gives up after one restart, with its status', async () => {
  const dir = makeScratch('restart-1');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '2', '--restart', '1', ...QUICK, '--events', events, '--', 'sh', '-c', '[ "$OP_RANK" = 1 ] || exit 9']);
  assert.is(result.status, 9);
  const giveUps = readEvents(events).filter((line) => line.event === 'give-up');
  assert.equal(giveUps.map((line) => [line.worker, line.generation, line.code]), [[0, 1, 9]]);
  assert.match(result.stderr, /worker-0#1: exit 9 after \d+ ms; giving up: restarted 1 times \(--restart 1\)/);
});

test('--restart always: a worker that always fails gives up at the --max-restarts-in bound', async () => {
  const dir = makeScratch('restart-always');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '1', '--restart', 'always', ...QUICK, '--max-restarts-in', '3/60', '--events', events, '--', 'sh', '-c', 'exit 5']);
  assert.is(result.status, 5);
  const lines = readEvents(events);
  assert.is(lines.filter((line) => line.event === 'start').length, 4, 'the first run and 3 restarts');
  assert.is(lines.filter((line) => line.event === 'restart').length, 3);
  const giveUp = lines.filter((line) => line.event === 'give-up');
  assert.is(giveUp.length, 1);
  assert.match(String(giveUp[0]?.reason), /--max-restarts-in 3\/60/);
  // Each delay doubles (jitter takes at most 20% off): 20, 40, 80 ms.
  const delays = lines.filter((line) => line.event === 'restart').map((line) => Number(line.delay));
  for (const [k, delay] of delays.entries()) assert.ok(delay >= 0.8 * 20 * 2 ** k && delay <= 20 * 2 ** k, `delay ${k}: ${delay}`);
  removeScratch(dir);
});

test('--success-exit shutdown: the first clean exit stops the others; exit 0', async () => {
  const dir = makeScratch('success-shutdown');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '3', '--success-exit', 'shutdown', '--events', events, '--', 'sh', '-c', '[ "$OP_RANK" = 1 ] && exit 0; exec sleep 300']);
  assert.is(result.status, 0, result.stderr);
  assert.equal(readEvents(events).filter((line) => line.event === 'shutdown').map((line) => line.worker).sort(), [0, 2]);
  removeScratch(dir);
});

test('--startup-stagger: worker k starts k × S after the first', async () => {
  const dir = makeScratch('stagger');
  const events = join(dir, 'events.ndjson');
  const result = await runOpRun(['-w', '3', '--startup-stagger', '0.2', '--events', events, '--', 'true']);
  assert.is(result.status, 0);
  const starts = readEvents(events).filter((line) => line.event === 'start').sort((a, b) => a.worker - b.worker).map((line) => Date.parse(line.time));
  const [first = 0, second = 0, third = 0] = starts;
  assert.ok(second - first >= 190, `worker 1 started ${second - first} ms after worker 0`);
  assert.ok(third - first >= 390, `worker 2 started ${third - first} ms after worker 0`);
  removeScratch(dir);
});

test.run();

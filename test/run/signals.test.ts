import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, OpRun, processesWith, readEvents, removeScratch, waitUntil } from './op-run.js';

/**
 * A worker that announces itself, then either records the SIGTERM it gets and exits, or
 * (rank 2) ignores it. The marker argument finds its processes afterwards.
 */
const WORKER = `if [ "$OP_RANK" = 2 ]; then trap '' TERM; else trap 'echo TERM > "$1/term.$OP_RANK"; exit 0' TERM; fi
echo "ready $OP_RANK"
while :; do sleep 0.05; done`;

test('SIGTERM reaches every worker group; workers ignoring it are killed after --stop-timeout; exit 143', async () => {
  const dir = makeScratch('sigterm');
  const marker = `op-run-sigterm-${process.pid}`;
  const events = join(dir, 'events.ndjson');
  const run = new OpRun(['-w', '3', '--stop-timeout', '0.5', '--events', events, '--', 'sh', '-c', WORKER, marker, dir]);
  try {
    await waitUntil(() => run.stdout.split('\n').filter((line) => line.startsWith('ready')).length === 3, 'three workers to start');
    const asked = Date.now();
    run.child.kill('SIGTERM');
    const { status } = await run.result();
    assert.is(status, 143);
    assert.ok(Date.now() - asked >= 500, 'the worker ignoring SIGTERM had --stop-timeout');
    assert.is(readFileSync(join(dir, 'term.0'), 'utf8'), 'TERM\n');
    assert.is(readFileSync(join(dir, 'term.1'), 'utf8'), 'TERM\n');
    assert.not.ok(existsSync(join(dir, 'term.2')));
    assert.equal(processesWith(marker), [], 'no worker is left');
    const lines = readEvents(events);
    assert.equal(lines.filter((line) => line.event === 'signal').map((line) => line.worker).sort(), [0, 1, 2]);
    assert.equal(lines.filter((line) => line.event === 'kill').map((line) => line.worker), [2]);
    assert.equal(lines.find((line) => line.event === 'exit' && line.worker === 2)?.signal, 'SIGKILL');
    assert.match(run.stderr, /SIGKILL to 1 worker still running after --stop-timeout 0.5 s/);
  } finally {
    run.child.kill('SIGKILL');
    removeScratch(dir);
  }
});

test('a second SIGINT kills the workers at once; exit 130', async () => {
  const dir = makeScratch('sigint-twice');
  const marker = `op-run-sigint-${process.pid}`;
  const run = new OpRun(['-w', '2', '--stop-timeout', '60', '--', 'sh', '-c', `trap '' INT TERM; echo ready; while :; do sleep 0.05; done`, marker]);
  try {
    await waitUntil(() => run.stdout === 'ready\nready\n', 'two workers to start');
    run.child.kill('SIGINT');
    await waitUntil(() => run.stderr.includes('SIGINT: passed on to 2 workers'), 'the first SIGINT to be passed on');
    run.child.kill('SIGINT');
    const { status } = await run.result(10_000);
    assert.is(status, 130);
    assert.equal(processesWith(marker), []);
    assert.match(run.stderr, /SIGKILL to 2 workers at once/);
  } finally {
    run.child.kill('SIGKILL');
    removeScratch(dir);
  }
});

test('SIGHUP and SIGQUIT are passed on too, and give 129 and 131', async () => {
  for (const [signal, status] of [['SIGHUP', 129], ['SIGQUIT', 131]] as const) {
    const run = new OpRun(['-w', '2', '--', 'sh', '-c', `trap 'echo got-${signal}; exit 0' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`]);
    try {
      await waitUntil(() => run.stdout === 'ready\nready\n', 'two workers to start');
      run.child.kill(signal);
      const result = await run.result(10_000);
      assert.is(result.status, status);
      assert.is(run.stdout, `ready\nready\ngot-${signal}\ngot-${signal}\n`);
    } finally {
      run.child.kill('SIGKILL');
    }
  }
});

test('a worker that exits leaves nothing running in its group', async () => {
  const marker = `op-run-leftover-${process.pid}`;
  const run = new OpRun(['-w', '1', '--stop-timeout', '0.2', '--', 'sh', '-c', `(trap '' TERM; exec sleep 300) & echo started`, marker]);
  const result = await run.result(10_000);
  assert.is(result.status, 0, run.stderr);
  assert.is(run.stdout, 'started\n');
  assert.equal(processesWith(marker), []);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/core/errors.js';
import { exitStatus } from '../../src/run/exit-status.js';
import { LineCutter, prefixLines } from '../../src/io/line-cutter.js';
import { parseRestart, parseRestartWindow, parseSeconds } from '../../src/run/parse-policy.js';
import { resolveNodes } from '../../src/run/resolve-nodes.js';
import { HEALTHY_MS, MAX_DELAY_MS, RestartBudget, restartDelay } from '../../src/run/restart-budget.js';
import { fillWorkerTemplate, placeOf, workerEnv } from '../../src/run/worker-env.js';

const noJitter = (): number => 0;
const fullJitter = (): number => 0.999_999;

test('restart delay: 1 s doubling to 30 s; jitter takes at most 20% off', () => {
  assert.equal([0, 1, 2, 3, 4, 5, 6, 10].map((streak) => restartDelay(1000, streak, noJitter)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.is(restartDelay(1000, 0, fullJitter), 800);
  assert.is(restartDelay(1000, 9, fullJitter), 24000);
  assert.is(MAX_DELAY_MS, 30_000);
});

test('restart budget: --restart N counts restarts; a healthy run resets the backoff', () => {
  const budget = new RestartBudget(3, { count: 100, ms: 60_000 }, 1000, noJitter);
  assert.equal(budget.afterFailure(10, 0), { restart: true, delayMs: 1000 });
  assert.equal(budget.afterFailure(10, 2000), { restart: true, delayMs: 2000 });
  // 30 s of healthy running: the next crash waits the first delay again.
  assert.equal(budget.afterFailure(HEALTHY_MS, 40_000), { restart: true, delayMs: 1000 });
  const last = budget.afterFailure(10, 50_000);
  assert.is(last.restart, false);
  assert.match(last.restart ? '' : String(last.giveUp), /--restart 3/);
});

test('restart budget: --restart never gives no restart and no give-up', () => {
  assert.equal(new RestartBudget(0, { count: 5, ms: 60_000 }, 1000).afterFailure(10, 0), { restart: false, giveUp: undefined });
});

test('restart budget: more than N failures within the window gives up, however --restart reads', () => {
  const budget = new RestartBudget(Infinity, { count: 2, ms: 10_000 }, 1, noJitter);
  assert.ok(budget.afterFailure(1, 0).restart);
  assert.ok(budget.afterFailure(1, 1000).restart);
  const third = budget.afterFailure(1, 2000);
  assert.is(third.restart, false);
  assert.match(third.restart ? '' : String(third.giveUp), /failed 3 times within 10 s \(--max-restarts-in 2\/10\)/);
  // Failures spread wider than the window never give up.
  const spread = new RestartBudget(Infinity, { count: 2, ms: 10_000 }, 1, noJitter);
  for (let k = 0; k < 10; k++) assert.ok(spread.afterFailure(1, k * 6_000).restart, `failure ${k}`);
});

test('line cutter: whole lines only, whatever the pieces; the last line is completed', () => {
  const cutter = new LineCutter();
  const text = '{"a":1}\n{"b":[1,2,3]}\n\n{"c":"x"}\n{"d"';
  const out: string[] = [];
  for (const piece of ['{"a"', ':1}\n{"b":[1', ',2,3]}', '\n\n{"c":"x"}\n{', '"d"']) {
    const lines = cutter.push(Buffer.from(piece));
    if (lines !== undefined) {
      assert.ok(lines.toString().endsWith('\n'));
      out.push(lines.toString());
    }
  }
  out.push(cutter.end()?.toString() ?? '');
  assert.is(out.join(''), text + '\n');
  assert.is(cutter.end(), undefined);
});

test('prefixLines tags every line, empty ones too', () => {
  assert.is(prefixLines(Buffer.from('a\n\nbc\n'), Buffer.from('[w] ')).toString(), '[w] a\n[w] \n[w] bc\n');
});

test('--restart, --max-restarts-in and seconds parse, or are usage errors', () => {
  assert.is(parseRestart('never'), 0);
  assert.is(parseRestart('always'), Infinity);
  assert.is(parseRestart('3'), 3);
  assert.throws(() => parseRestart('-1'), (error: unknown) => error instanceof UsageError);
  assert.equal(parseRestartWindow('5/60'), { count: 5, ms: 60_000 });
  assert.equal(parseRestartWindow('2/0.5'), { count: 2, ms: 500 });
  for (const bad of ['5', '5/0', 'a/b', '/60']) assert.throws(() => parseRestartWindow(bad), (error: unknown) => error instanceof UsageError, bad);
  assert.is(parseSeconds('0.25', '--stop-timeout'), 250);
  assert.throws(() => parseSeconds('-1', '--stop-timeout'), (error: unknown) => error instanceof UsageError);
});

test('nodes: flags, then SLURM_*, then NNODES/NODE_RANK; one node by default; impossible places are usage errors', () => {
  assert.equal(resolveNodes({}, {}), { nodes: 1, nodeRank: 0, from: 'default' });
  assert.equal(resolveNodes({}, { SLURM_NNODES: '4', SLURM_NODEID: '3', NNODES: '2', NODE_RANK: '1' }), { nodes: 4, nodeRank: 3, from: 'SLURM_NODEID' });
  assert.equal(resolveNodes({}, { NNODES: '2', NODE_RANK: '1', SLURM_NNODES: '' }), { nodes: 2, nodeRank: 1, from: 'NODE_RANK' });
  assert.equal(resolveNodes({ nodes: 8, nodeRank: 5 }, { NNODES: '2', NODE_RANK: '1' }), { nodes: 8, nodeRank: 5, from: '--node-rank' });
  const usage = (error: unknown): boolean => error instanceof UsageError;
  assert.throws(() => resolveNodes({ nodes: 2 }, {}), usage);
  assert.throws(() => resolveNodes({ nodes: 2, nodeRank: 2 }, {}), usage);
  assert.throws(() => resolveNodes({ nodeRank: 1 }, {}), usage);
  assert.throws(() => resolveNodes({}, { NNODES: 'two', NODE_RANK: '0' }), usage);
});

test('worker place and environment: global rank is node rank × N + local rank', () => {
  const place = placeOf(2, 4, 3, 1);
  assert.equal(place, { rank: 6, localRank: 2, world: 12, localWorld: 4 });
  const env = workerEnv({ KEEP: 'yes', OP_RANK: '99' }, place, 3);
  assert.equal(
    { KEEP: env.KEEP, OP_RANK: env.OP_RANK, OP_LOCAL_RANK: env.OP_LOCAL_RANK, OP_WORLD_SIZE: env.OP_WORLD_SIZE, OP_RESTART_COUNT: env.OP_RESTART_COUNT, SDRUN_MODE: env.SDRUN_MODE, SDRUN_RANK: env.SDRUN_RANK, SDRUN_LOCAL_RANK: env.SDRUN_LOCAL_RANK, SDRUN_WORLD_SIZE: env.SDRUN_WORLD_SIZE },
    { KEEP: 'yes', OP_RANK: '6', OP_LOCAL_RANK: '2', OP_WORLD_SIZE: '12', OP_RESTART_COUNT: '3', SDRUN_MODE: 'true', SDRUN_RANK: '6', SDRUN_LOCAL_RANK: '2', SDRUN_WORLD_SIZE: '12' },
  );
  assert.is(fillWorkerTemplate('out-{rank}-{local_rank}-of-{world}.ndjson', place), 'out-6-2-of-12.ndjson');
});

test('exit status: a capped sum, the failing status, 128 + signal', () => {
  const ends = (...statuses: Array<number | undefined>) => statuses.map((status) => ({ status, ownEnd: true }));
  assert.is(exitStatus(undefined, ends(100, 100, 100)), 255);
  assert.is(exitStatus(undefined, ends(1, 2, undefined)), 3);
  assert.is(exitStatus({ kind: 'failure-exit', worker: 1, code: 3 }, ends(143, 3, 143)), 3);
  assert.is(exitStatus({ kind: 'signal', signal: 'SIGTERM' }, ends(0, 0)), 143);
  assert.is(exitStatus({ kind: 'signal', signal: 'SIGQUIT' }, ends(0)), 131);
  assert.is(exitStatus({ kind: 'success-exit', worker: 0 }, [{ status: 0, ownEnd: true }, { status: 143, ownEnd: false }, { status: 4, ownEnd: true }]), 4);
  assert.is(exitStatus({ kind: 'closed-output' }, ends(141)), 0);
});

test.run();

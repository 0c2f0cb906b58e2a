import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/core/errors.js';
import { resolveRank } from '../../src/core/resolve-rank.js';

const none = {};

function usage(run: () => unknown, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, UsageError);
    assert.is((error as UsageError).exitCode, 2);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a usage error');
}

test('--rank and --world win over the environment', () => {
  assert.equal(resolveRank({ rank: 1, world: 3 }, { OP_RANK: '0', OP_WORLD_SIZE: '2' }, { required: true }), { rank: 1, world: 3, from: '--rank' });
});

test('each launcher family gives rank and world', () => {
  const families: Array<[string, string]> = [
    ['OP_RANK', 'OP_WORLD_SIZE'],
    ['SDRUN_RANK', 'SDRUN_WORLD_SIZE'],
    ['RANK', 'WORLD_SIZE'],
    ['SLURM_PROCID', 'SLURM_NTASKS'],
  ];
  for (const [rankVar, worldVar] of families) {
    assert.equal(resolveRank(none, { [rankVar]: '2', [worldVar]: '5' }, { required: true }), { rank: 2, world: 5, from: rankVar }, rankVar);
  }
});

test('Kubernetes indexed jobs: JOB_COMPLETION_INDEX with --world or OP_WORLD_SIZE', () => {
  assert.equal(resolveRank({ world: 4 }, { JOB_COMPLETION_INDEX: '3' }, { required: true }), { rank: 3, world: 4, from: 'JOB_COMPLETION_INDEX' });
  assert.equal(resolveRank(none, { JOB_COMPLETION_INDEX: '1', OP_WORLD_SIZE: '2' }, { required: true }), { rank: 1, world: 2, from: 'JOB_COMPLETION_INDEX' });
  usage(() => resolveRank(none, { JOB_COMPLETION_INDEX: '1' }, { required: true }), /no world size/);
});

test('the first family found wins, in the documented order', () => {
  const env = { OP_RANK: '0', OP_WORLD_SIZE: '2', SDRUN_RANK: '1', SDRUN_WORLD_SIZE: '3', RANK: '2', WORLD_SIZE: '4', SLURM_PROCID: '3', SLURM_NTASKS: '5', JOB_COMPLETION_INDEX: '4' };
  assert.is(resolveRank(none, env, { required: true }).from, 'OP_RANK');
  assert.is(resolveRank(none, { ...env, OP_RANK: '' }, { required: true }).from, 'SDRUN_RANK');
  assert.is(resolveRank(none, { ...env, OP_RANK: '', SDRUN_RANK: undefined }, { required: true }).from, 'RANK');
  assert.is(resolveRank(none, { SLURM_PROCID: '3', SLURM_NTASKS: '5', JOB_COMPLETION_INDEX: '4' }, { required: true }).from, 'SLURM_PROCID');
});

test('--world overrides the family world size', () => {
  assert.equal(resolveRank({ world: 8 }, { RANK: '7', WORLD_SIZE: '2' }, { required: true }), { rank: 7, world: 8, from: 'RANK' });
});

test('usage errors: no rank, no world, world below 1, rank not below world, not a number', () => {
  usage(() => resolveRank(none, {}, { required: true }), /no rank/);
  usage(() => resolveRank({ rank: 0 }, {}, { required: true }), /no world size/);
  usage(() => resolveRank({ rank: 0, world: 0 }, {}, { required: true }), /at least 1/);
  usage(() => resolveRank(none, { OP_RANK: '0', OP_WORLD_SIZE: '0' }, { required: true }), /at least 1/);
  usage(() => resolveRank({ rank: 2, world: 2 }, {}, { required: true }), /rank 2 is not below world size 2/);
  usage(() => resolveRank(none, { SLURM_PROCID: '4', SLURM_NTASKS: '4' }, { required: true }), /not below/);
  usage(() => resolveRank(none, { RANK: 'x', WORLD_SIZE: '2' }, { required: true }), /RANK="x" is not a whole number/);
  usage(() => resolveRank(none, { RANK: '-1', WORLD_SIZE: '2' }, { required: true }), /not a whole number/);
});

test('not required (handler commands): a single process is rank 0 of 1', () => {
  assert.equal(resolveRank(none, {}, { required: false }), { rank: 0, world: 1, from: 'default' });
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathWithOp, runOpRun } from './op-run.js';

const sortedLines = (text: string): string[] => text.split('\n').filter(Boolean).sort();

test('4 workers see ranks 0..3 of 4, with the same SDRUN_RANK', async () => {
  const result = await runOpRun(['-w', '4', '--', 'sh', '-c', 'echo $OP_RANK/$OP_WORLD_SIZE $SDRUN_RANK']);
  assert.is(result.status, 0, result.stderr);
  assert.equal(sortedLines(result.stdout), ['0/4 0', '1/4 1', '2/4 2', '3/4 3']);
  assert.is(result.stderr, '');
});

test('--nodes 2 --node-rank 1: ranks 4..7 of 8, local ranks 0..3', async () => {
  const result = await runOpRun(['-w', '4', '--nodes', '2', '--node-rank', '1', '--', 'sh', '-c', 'echo $OP_RANK/$OP_WORLD_SIZE $SDRUN_RANK $OP_LOCAL_RANK $SDRUN_LOCAL_RANK $SDRUN_WORLD_SIZE']);
  assert.is(result.status, 0, result.stderr);
  assert.equal(sortedLines(result.stdout), ['4/8 4 0 0 8', '5/8 5 1 1 8', '6/8 6 2 2 8', '7/8 7 3 3 8']);
});

test('nodes and node rank come from SLURM_NNODES/SLURM_NODEID, else NNODES/NODE_RANK; flags win', async () => {
  const cmd = ['-w', '2', '--', 'sh', '-c', 'echo $OP_RANK/$OP_WORLD_SIZE'];
  const slurm = await runOpRun(cmd, { env: { SLURM_NNODES: '3', SLURM_NODEID: '2', NNODES: '9', NODE_RANK: '8' } });
  assert.equal(sortedLines(slurm.stdout), ['4/6', '5/6']);
  const torch = await runOpRun(cmd, { env: { NNODES: '2', NODE_RANK: '1' } });
  assert.equal(sortedLines(torch.stdout), ['2/4', '3/4']);
  const flags = await runOpRun(['--nodes', '4', '--node-rank', '0', ...cmd], { env: { NNODES: '2', NODE_RANK: '1' } });
  assert.equal(sortedLines(flags.stdout), ['0/8', '1/8']);
});

test('SDRUN_MODE, OP_RESTART_COUNT, stdin at end of file; op shard inside a worker needs no flags', async () => {
  const env = await runOpRun(['-w', '1', '--', 'sh', '-c', 'echo $SDRUN_MODE $OP_RESTART_COUNT $OP_LOCAL_WORLD_SIZE; cat; echo end']);
  assert.equal(env.stdout, 'true 0 1\nend\n');
  // The host's own RANK/WORLD_SIZE must not win over the worker's OP_RANK.
  const data = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n';
  const shard = await runOpRun(['-w', '3', '--', 'sh', '-c', 'printf "%s" "$1" | op shard', 'sh', data], {
    env: { RANK: '7', WORLD_SIZE: '9', PATH: pathWithOp() },
  });
  assert.is(shard.status, 0, shard.stderr);
  const seen = shard.stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { i: number }).i);
  assert.equal(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test.run();

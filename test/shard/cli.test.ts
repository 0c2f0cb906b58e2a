import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rankOfKey } from '../../src/core/key-hash.js';
import { lines, ndjson, runOp } from '../helpers/run-op.js';
import { NO_RANK_ENV, makeRecords, scratch, sh } from './op-shell.js';

const records = makeRecords(500);
const input = ndjson(records);
const inputLines = input.split('\n').slice(0, -1);
const work = scratch({ 'in.ndjson': input });

function shareFiles(world: number): string[] {
  return Array.from({ length: world }, (_, rank) => work.read(`p${world}-${rank}.ndjson`));
}

test.after(() => work.remove());

test('--by index: the shares of 1, 2, 3 and 7 ranks interleave back into exactly the input', async () => {
  for (const world of [1, 2, 3, 7]) {
    const result = await sh(`op shard --split 'p${world}-{rank}.ndjson' --world ${world} < in.ndjson`, work.dir);
    assert.is(result.status, 0, result.stderr);
    const shares = shareFiles(world).map((text) => text.split('\n').slice(0, -1));
    const woven: string[] = [];
    for (let i = 0; i < inputLines.length; i++) woven.push(shares[i % world]?.[i / world | 0] ?? '<missing>');
    assert.equal(woven, inputLines, `world ${world}`);
    assert.is(shares.reduce((n, share) => n + share.length, 0), inputLines.length, `world ${world}: nothing extra`);
  }
});

test('--rank r alone writes the same share as --split, for every rank', async () => {
  const split = shareFiles(3);
  for (let rank = 0; rank < 3; rank++) {
    const result = await runOp(['shard', '--rank', String(rank), '--world', '3'], { input, env: NO_RANK_ENV });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, split[rank], `rank ${rank}`);
  }
});

test('--by key:FIELD: shares together are the input, in input order, and a key lives on one rank only', async () => {
  for (const world of [1, 2, 3, 7]) {
    const result = await sh(`op shard --by key:user --split 'p${world}-{rank}.ndjson' --world ${world} < in.ndjson`, work.dir);
    assert.is(result.status, 0, result.stderr);
    const shares = shareFiles(world);
    const owner = new Map<unknown, number>();
    shares.forEach((text, rank) => {
      const got = lines(text) as Array<Record<string, unknown>>;
      // Each share is the input's records of that rank, in input order.
      assert.equal(got, records.filter((r) => rankOfKey(r, 'user', world) === rank), `world ${world} rank ${rank}`);
      for (const record of got) {
        if (!('user' in record)) {
          assert.is(rank, 0, 'records without the key go to rank 0');
          continue;
        }
        assert.is(owner.get(record.user) ?? rank, rank, `key ${String(record.user)} on two ranks`);
        owner.set(record.user, rank);
      }
    });
    assert.equal(shares.join('').split('\n').slice(0, -1).sort(), [...inputLines].sort(), `world ${world}: every record once`);
  }
});

test('--by key: one rank alone matches its --split share', async () => {
  const result = await runOp(['shard', '--by', 'key:user', '--rank', '2', '--world', '3'], { input, env: NO_RANK_ENV });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout, shareFiles(3)[2]);
});

test('rank and world from each environment family', async () => {
  const want = inputLines.filter((_, i) => i % 4 === 3).join('\n') + '\n';
  const families: Array<[NodeJS.ProcessEnv, string[]]> = [
    [{ OP_RANK: '3', OP_WORLD_SIZE: '4' }, []],
    [{ SDRUN_RANK: '3', SDRUN_WORLD_SIZE: '4' }, []],
    [{ RANK: '3', WORLD_SIZE: '4' }, []],
    [{ SLURM_PROCID: '3', SLURM_NTASKS: '4' }, []],
    [{ JOB_COMPLETION_INDEX: '3' }, ['--world', '4']],
    [{ JOB_COMPLETION_INDEX: '3', OP_WORLD_SIZE: '4' }, []],
  ];
  for (const [env, args] of families) {
    const result = await runOp(['shard', ...args], { input, env: { ...NO_RANK_ENV, ...env } });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, want, JSON.stringify(env));
  }
});

test('usage errors exit 2 with one line', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['shard'], {}, /^op shard: no rank: pass --rank N --world M/],
    [['shard', '--rank', '0', '--world', '0'], {}, /^op shard: world size must be at least 1, got 0\n/],
    [['shard'], { RANK: '4', WORLD_SIZE: '4' }, /^op shard: rank 4 is not below world size 4 \(ranks are 0-based\)\n/],
  ];
  for (const [args, env, message] of cases) {
    const result = await runOp(args, { input, env: { ...NO_RANK_ENV, ...env } });
    assert.is(result.status, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.is(result.stdout, '');
  }
});

test('--seq stamps object records with their global index before the split; others pass unstamped', async () => {
  const text = '{"a":1}\n\n[1,2]\n{}\n  \n"s"\n{"_i":"old","b":2}\r\n{ "c" : 3 }\n';
  const result = await runOp(['shard', '--seq', '_i', '--rank', '0', '--world', '2'], { input: text, env: NO_RANK_ENV });
  assert.is(result.status, 0, result.stderr);
  // Records 0..5 (blank lines are not records): 0, 2 and 4 belong to rank 0.
  assert.is(result.stdout, '{"a":1,"_i":0}\n{"_i":2}\n{"_i":4,"b":2}\n');
  const all = await runOp(['shard', '--seq', '_i', '--rank', '0', '--world', '1'], { input: text, env: NO_RANK_ENV });
  assert.is(all.stdout, '{"a":1,"_i":0}\n[1,2]\n{"_i":2}\n"s"\n{"_i":4,"b":2}\n{ "c" : 3 ,"_i":5}\n');
});

test('--by key: a line that is not JSON stops the run at its place; records before it are written', async () => {
  const result = await runOp(['shard', '--by', 'key:a', '--rank', '0', '--world', '1'], { input: '{"a":1}\n\n{"a":}\n{"a":3}\n', env: NO_RANK_ENV });
  assert.is(result.status, 1);
  assert.is(result.stdout, '{"a":1}\n');
  assert.match(result.stderr, /^op shard: stdin:3: SyntaxError: /);
  assert.match(result.stderr, /\n {2}\{"a":\}\n$/);
});

test('--out fills {rank} and {world}; --in reads files and stdin in order, one index across them', async () => {
  const result = await sh(
    `printf '{"n":0}\\n{"n":1}' > a.ndjson; printf '{"n":2}\\n' | op shard --rank 1 --world 2 --in a.ndjson --in - --in a.ndjson --out 'o-{rank}-of-{world}.ndjson'`,
    work.dir,
  );
  assert.is(result.status, 0, result.stderr);
  assert.ok(readdirSync(work.dir).includes('o-1-of-2.ndjson'));
  assert.is(work.read('o-1-of-2.ndjson'), '{"n":1}\n{"n":0}\n');
});

test('a closed stdout ends the run quietly with status 0 (index and key paths)', async () => {
  const big = scratch({ 'big.ndjson': ndjson(makeRecords(60000)) });
  try {
    for (const by of ['index', 'key:user']) {
      const result = await sh(`(op shard --by ${by} --rank 0 --world 2 < big.ndjson; echo "status=$?" >&2) | head -1`, big.dir);
      assert.is(result.stdout, '{"id":0,"user":"u0","name":"ana","score":0}\n', by);
      assert.is(result.stderr, 'status=0\n', by);
    }
  } finally {
    big.remove();
  }
});

test.run();

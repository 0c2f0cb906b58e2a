import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, runOp } from '../helpers/run-op.js';
import { scratch } from '../shard/op-shell.js';

const work = scratch({});
test.after(() => work.remove());

const INPUT = Array.from({ length: 25 }, (_, k) => `{"n":${k}}\n`).join('');

test('--journal written with a later step journals the chain, batch step included; a rerun takes its output from the journal', async () => {
  const args = ['map', '({n: r.n * 2})', 'then', 'batch', '--size', '10', '[r.length]', '--journal', 'batch.journal'];
  const first = await runOp(args, { cwd: work.dir, input: INPUT });
  assert.is(first.status, 0, first.stderr);
  assert.is(first.stdout, '10\n10\n5\n');
  const entries = (lines(work.read('batch.journal')) as Array<{ k?: string; o?: unknown[] }>).filter((entry) => entry.k !== undefined);
  assert.equal(
    entries.map((entry) => entry.o),
    [[10], [10], [5]],
  );
  const again = await runOp([...args, '--stats'], { cwd: work.dir, input: INPUT });
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, first.stdout);
  const stats = JSON.parse(again.stderr.trim().split('\n').at(-1)!) as { resumed: number };
  assert.is(stats.resumed, 25);
});

test("a journal of one chain is refused by another: the chain's steps are its handler", async () => {
  const one = await runOp(['map', 'r', 'then', 'filter', 'r.n > 3', '--journal', 'steps.journal'], { cwd: work.dir, input: INPUT });
  assert.is(one.status, 0, one.stderr);
  const other = await runOp(['map', 'r', 'then', 'filter', 'r.n > 4', '--journal', 'steps.journal'], { cwd: work.dir, input: INPUT });
  assert.is(other.status, 2);
  assert.match(other.stderr, 'the handler changed');
});

test.run();

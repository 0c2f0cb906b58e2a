import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, runOp } from '../helpers/run-op.js';
import { startLive } from '../helpers/live-op.js';
import { scratch } from '../shard/op-shell.js';

// Looks the record's key up in the side input `names`, and says which version it saw.
const LOOKUP = 'from opkit import run\ndef handle(r, ctx):\n    return {**r, "name": ctx.side["names"].get(r["k"]), "v": ctx.side_version}\nrun(handle)\n';
const work = scratch({ 'lookup.py': LOOKUP, 'names.json': '{"a":"alpha","b":"beta"}' });
test.after(() => work.remove());

test('--side reaches a --protocol json child: ctx.side and ctx.side_version in python/opkit.py, with -w 2 too', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const result = await runOp(['map', '--side', 'names=names.json', '--protocol', 'json', ...workers, '--', 'python3', 'lookup.py'], { cwd: work.dir, input: '{"k":"a"}\n{"k":"b"}\n{"k":"c"}\n' });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, '{"k":"a","name":"alpha","v":1}\n{"k":"b","name":"beta","v":1}\n{"k":"c","name":null,"v":1}\n');
  }
});

test('--journal records the side version sent with each record to the child', async () => {
  const result = await runOp(['map', '--side', 'names=names.json', '--protocol', 'json', '--journal', 'side.journal', '--', 'python3', 'lookup.py'], { cwd: work.dir, input: '{"k":"a"}\n{"k":"b"}\n' });
  assert.is(result.status, 0, result.stderr);
  const entries = (lines(readFileSync(join(work.dir, 'side.journal'), 'utf8')) as Array<{ k?: string; sideVersion?: number }>).filter((entry) => entry.k !== undefined);
  assert.equal(
    entries.map((entry) => entry.sideVersion),
    [1, 1],
  );
});

test('a new version of the side file reaches the child with the next records', async () => {
  writeFileSync(join(work.dir, 'live.json'), '{"a":"one"}');
  const op = startLive(['map', '--side', 'names=live.json', '--protocol', 'json', '--', 'python3', 'lookup.py'], work.dir);
  const reply = (n: number) => op.reply<{ name: string; v: number }>('{"k":"a"}', n);
  assert.equal(await reply(1), { k: 'a', name: 'one', v: 1 });
  // Replaced by a rename, as a careful writer does; records are sent until one sees it.
  writeFileSync(join(work.dir, 'live.json.tmp'), '{"a":"two"}');
  renameSync(join(work.dir, 'live.json.tmp'), join(work.dir, 'live.json'));
  let n = 1;
  let last = await reply(++n);
  const deadline = Date.now() + 30_000;
  while (last.v === 1 && Date.now() < deadline) last = await reply(++n);
  assert.equal(last, { k: 'a', name: 'two', v: 2 });
  assert.is(await op.end(), 0, op.stderr());
});

test('--side reaches a --protocol json step of a chain, inline and with -w 2', async () => {
  for (const workers of [[], ['-w', '2']]) {
    const result = await runOp(['map', '({k: r.key})', '--side', 'names=names.json', 'then', 'map', '--protocol', 'json', '--', 'python3', 'lookup.py', 'then', 'filter', 'r.name !== null', ...workers], { cwd: work.dir, input: '{"key":"a"}\n{"key":"c"}\n{"key":"b"}\n' });
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout, '{"k":"a","name":"alpha","v":1}\n{"k":"b","name":"beta","v":1}\n');
  }
});

test('--side with a lines child, or with a lines command step of a chain, is a usage error', async () => {
  const lines = await runOp(['map', '--side', 'names=names.json', '--', 'python3', 'lookup.py'], { cwd: work.dir, input: '{}\n' });
  assert.is(lines.status, 2);
  assert.match(lines.stderr, '--side reaches a command after -- through --protocol json');
  const chain = await runOp(['map', 'r', '--side', 'names=names.json', 'then', 'map', '--', 'python3', 'lookup.py'], { cwd: work.dir, input: '{}\n' });
  assert.is(chain.status, 2);
  assert.match(chain.stderr, '--side reaches step 2, a command after --, through --protocol json');
});

test.run();

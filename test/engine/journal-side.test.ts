import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lines, runOp } from '../helpers/run-op.js';
import { startLive } from '../helpers/live-op.js';
import { scratch } from '../shard/op-shell.js';

const work = scratch({ 'names.json': '{"a":"one"}' });
test.after(() => work.remove());

interface Entry {
  k?: string;
  sideVersion?: number;
  o?: Array<{ v: number }>;
}

const entries = (name: string): Entry[] => (lines(work.read(name)) as Entry[]).filter((entry) => entry.k !== undefined);

test('--journal records the side version each record saw, inline and with -w 2; none without --side', async () => {
  for (const [name, workers] of [['inline.journal', []], ['threads.journal', ['-w', '2']]] as const) {
    const result = await runOp(['map', '({...r, v: ctx.sideVersion})', '--side', 'names=names.json', '--journal', name, ...workers], { cwd: work.dir, input: '{"k":"a"}\n{"k":"b"}\n' });
    assert.is(result.status, 0, result.stderr);
    assert.equal(
      entries(name).map((entry) => entry.sideVersion),
      [1, 1],
    );
  }
  const plain = await runOp(['map', 'r', '--journal', 'plain.journal'], { cwd: work.dir, input: '{"k":"a"}\n' });
  assert.is(plain.status, 0, plain.stderr);
  assert.equal(
    entries('plain.journal').map((entry) => 'sideVersion' in entry),
    [false],
  );
});

test('a new side version mid-run: each journal entry names the version its record saw', async () => {
  writeFileSync(join(work.dir, 'live.json'), '{"a":"one"}');
  const op = startLive(['map', '({...r, v: ctx.sideVersion})', '--side', 'names=live.json', '--journal', 'live.journal'], work.dir);
  const reply = (n: number) => op.reply<{ v: number }>('{"k":"a"}', n);
  assert.is((await reply(1)).v, 1);
  writeFileSync(join(work.dir, 'live.json.tmp'), '{"a":"two"}');
  renameSync(join(work.dir, 'live.json.tmp'), join(work.dir, 'live.json'));
  let n = 1;
  const deadline = Date.now() + 30_000;
  while ((await reply(++n)).v === 1 && Date.now() < deadline);
  assert.is(await op.end(), 0, op.stderr());
  const seen = (lines(op.stdout()) as Array<{ v: number }>).map((record) => record.v);
  assert.is(seen.at(-1), 2);
  assert.equal(
    entries('live.journal').map((entry) => entry.sideVersion),
    seen,
  );
});

test.run();

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, makeScratch, readLines, RECORD_RUN, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

/** Every live process in process group `pgid`. */
function membersOf(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => groupOf(pid) === pgid && isAlive(pid));
}

function groupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

const pidsIn = (file: string): number[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

test('stopped while a run has a child that ignores SIGTERM: after --stop-timeout the whole group is gone; exit 143', async () => {
  const dir = makeScratch('stop-group');
  const pids = join(dir, 'pids');
  // sh starts a child that ignores SIGTERM (the ignore survives exec), notes both pids, waits.
  const script = `(trap '' TERM; exec sleep 300) & echo $! > "$1"; echo $$ >> "$1"; wait`;
  const watch = new WatchProcess([dir, '--stop-timeout', '500', '--', 'sh', '-c', script, '_', pids]);
  let group: number[] = [];
  try {
    await watch.ready();
    writeFileSync(join(dir, 'job.ndjson'), '{}\n');
    await waitUntil(() => pidsIn(pids).length === 2, 'the run and its child to start');
    group = pidsIn(pids);
    const [child = 0, leader = 0] = group;
    assert.equal(membersOf(leader).sort(), [child, leader].sort(), 'the run leads its own process group');
    const asked = Date.now();
    const { status } = await watch.stop('SIGTERM');
    assert.is(status, 143);
    assert.ok(Date.now() - asked >= 500, 'the run had --stop-timeout to finish');
    assert.equal(membersOf(leader), [], 'nothing of the group is left');
    assert.is(isAlive(child), false, 'the child that ignored SIGTERM is gone');
    assert.match(watch.stderr, /job\.ndjson: stopped: op watch is stopping/);
  } finally {
    watch.child.kill('SIGKILL');
    for (const pid of group) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  removeScratch(dir);
});

test('stopped while a run is in progress: the run may finish within --stop-timeout, and is recorded as done', async () => {
  const dir = makeScratch('stop-finish');
  const inbox = join(dir, 'in');
  const log = join(dir, 'runs.log');
  const state = join(dir, 'state.json');
  mkdirSync(inbox);
  const watch = new WatchProcess([inbox, '--state', state, '--stop-timeout', '20000', '--', ...RECORD_RUN], { env: { RUN_LOG: log, RUN_SLEEP_MS: '800' } });
  try {
    await watch.ready();
    writeFileSync(join(inbox, 'job.ndjson'), '{}\n');
    await waitUntil(() => readLines(log).length === 1, 'the run to start');
    const { status } = await watch.stop('SIGINT');
    assert.is(status, 130);
    assert.equal(readLines(log).map((line) => line.phase), ['start', 'end']);
    const entry = Object.values((JSON.parse(readFileSync(state, 'utf8')) as { files: Record<string, { outcome: string }> }).files)[0];
    assert.is(entry?.outcome, 'ok');
  } finally {
    watch.child.kill('SIGKILL');
  }
  removeScratch(dir);
});

test.run();

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeScratch, QUIET_MS, readLines, RECORD_RUN, removeScratch, waitUntil, WatchProcess } from './watch-process.js';

/**
 * Saves with vim itself, in each 'backupcopy' mode: `yes` writes in place; `no` (and `auto`,
 * for a plain file) renames the old file away and writes a new one. 'backupskip' is emptied:
 * its default (/tmp/*) would skip the dance wherever the checkout lives under /tmp.
 */
function saveWithVim(path: string, mode: string, line: string): void {
  execFileSync(
    'vim',
    ['-N', '-u', 'NONE', '-i', 'NONE', '-es', '-c', `set backupcopy=${mode} writebackup backupskip=`, '-c', `call setline(1, [${JSON.stringify(line)}])`, '-c', 'wq', path],
    { stdio: 'ignore', timeout: 20_000 },
  );
}

test('vim saves (backupcopy auto, no, yes): one run per save, seeing the saved content; none for its probe, backup or swap files', async () => {
  try {
    execFileSync('vim', ['--version'], { stdio: 'ignore' });
  } catch {
    assert.unreachable('vim is not installed (apt-get install -y vim-nox); this test needs a real vim');
  }
  const dir = makeScratch('vim');
  const inbox = join(dir, 'in');
  mkdirSync(inbox);
  const file = join(inbox, 'data.ndjson');
  writeFileSync(file, '{"mode":"before"}\n');
  const log = join(dir, 'runs.log');
  // --match '.*': every name vim makes passes the match; only the ignore rules keep them out.
  const watch = new WatchProcess([inbox, '--match', '.*', '--', ...RECORD_RUN], { env: { RUN_LOG: log } });
  const ends = (): number => readLines(log).filter((line) => line.phase === 'end').length;
  try {
    await watch.ready();
    const modes = ['auto', 'no', 'yes'];
    for (const [i, mode] of modes.entries()) {
      const inode = statSync(file).ino;
      saveWithVim(file, mode, `{"mode":"${mode}"}`);
      assert.is(readFileSync(file, 'utf8'), `{"mode":"${mode}"}\n`);
      // The save really was vim's rename dance (not skipped by 'backupskip'), or in place for yes.
      assert.is(statSync(file).ino !== inode, mode !== 'yes', `backupcopy=${mode} ${mode === 'yes' ? 'keeps' : 'replaces'} the inode`);
      await waitUntil(() => ends() === i + 1, `the run for the save with backupcopy=${mode}`);
    }
    await sleep(QUIET_MS);
    const starts = readLines(log).filter((line) => line.phase === 'start');
    assert.equal(
      starts.map((line) => [line.path, line.event, line.content]),
      modes.map((mode) => [file, 'change', `{"mode":"${mode}"}\n`]),
    );
  } finally {
    await watch.stop();
  }
  removeScratch(dir);
});

test.run();

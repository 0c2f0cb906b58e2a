import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, OP, ndjson, runOp } from '../helpers/run-op.js';

const dir = mkdtempSync(join(tmpdir(), 'opkit-progress-'));
const RECORDS = 400;
// ~100 bytes a record, 40 KB in all: less than one read, so reading is done long before the work.
const input = join(dir, 'in.ndjson');
writeFileSync(input, ndjson(Array.from({ length: RECORDS }, (_, id) => ({ id, pad: 'x'.repeat(80) }))));

test('into a pipe: a plain final line with records, rate, 100% and ETA, no control characters (inline and -w 2)', async () => {
  for (const flags of [[], ['-w', '2']]) {
    const result = await runOp(['map', 'r', '--progress', '--in', input, ...flags]);
    assert.is(result.status, 0, result.stderr);
    assert.ok(!result.stderr.includes('\r') && !result.stderr.includes('\x1b'), JSON.stringify(result.stderr));
    assert.match(result.stderr, /^op map: 400 records {2}[\d,.]+\/s {2}100% {2}ETA 0:00\n$/, `${flags.join(' ')}: ${JSON.stringify(result.stderr)}`);
  }
});

test('into a pipe, from a pipe: records and rate; no percent, the size being unknown', async () => {
  const result = await runOp(['filter', 'true', '--progress'], { input: '1\n2\n3\n' });
  assert.match(result.stderr, /^op filter: 3 records {2}[\d,.]+\/s\n$/);
});

test('op each shows jobs done, failed and running on the same line', async () => {
  const errors = join(dir, 'each-errors.ndjson');
  const small = join(dir, 'codes.ndjson');
  writeFileSync(small, ndjson([{ code: 0 }, { code: 1 }, { code: 0 }]));
  const result = await runOp(['each', '--progress', '--in', small, '--errors', errors, '--', 'sh', '-c', 'exit $1', 'op', '{.code}']);
  assert.is(result.status, 3);
  assert.match(result.stderr, /^op each: 3 done {2}1 failed {2}0 running {2}[\d,.]+\/s {2}100% {2}ETA 0:00\nop each: 1 of 3 records failed; see /);
});

/** A tmux server of this test's own (its socket in the test's folder), whose panes stay after their command ends. */
const socket = join(dir, 'tmux.sock');
const conf = join(dir, 'tmux.conf');
writeFileSync(conf, 'set -g remain-on-exit on\nset -g status off\n');
const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', socket, '-f', conf, ...args], { encoding: 'utf8' });

async function paneUntil(session: string, seen: (screen: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // From the start of the history: tmux may scroll the pane when it marks it dead.
    const screen = tmux('capture-pane', '-p', '-S', '-', '-t', session);
    if (seen(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`${what} never showed; the pane:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `op map` in a real terminal (a tmux pane of `width` columns), held on record 200 of 400
 * until a gate file exists, with a ctx.log line at record 100. Returns the pane while held
 * and after the run.
 */
async function runInTerminal(name: string, width: number, flags: string[], held: (screen: string) => boolean): Promise<{ held: string; after: string }> {
  const gate = join(dir, `${name}.gate`);
  const config = join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ gate, waitAt: 200, logAt: 100 }));
  // Paths only, made here: no record data reaches the shell.
  const command = `${process.execPath} ${OP} map ${join(FIXTURES, 'handlers/gate.mjs')} --config ${config} --in ${input} --progress ${flags.join(' ')} > ${join(dir, `${name}.out`)}; echo op-exit=$?`;
  tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '24', command);
  try {
    const screen = await paneUntil(name, (text) => /reached 100/.test(text) && held(text), 'the run held on record 200');
    writeFileSync(gate, '');
    const after = await paneUntil(name, (text) => text.includes('op-exit='), 'the end of the run');
    return { held: screen, after };
  } finally {
    tmux('kill-session', '-t', name);
  }
}

function screenLines(screen: string): string[] {
  return screen.split('\n').filter((line) => line.trim() !== '');
}

for (const flags of [[], ['-w', '2']]) {
  test(`in a terminal (${flags.join(' ') || 'inline'}): percent from records processed, not read; a log line above, never glued`, async () => {
    // Inline, records count as they finish: all 200 before the held one. With workers a task counts when delivered: one is, at least.
    const settled = flags.length === 0 ? (screen: string) => / 200 records /.test(screen) : (screen: string) => /[1-9]\d* records .*ETA/.test(screen);
    const { held, after } = await runInTerminal(`held${flags.join('')}`, 80, flags, settled);
    const [log, line, ...rest] = screenLines(held);
    assert.is(log, `op map ${input}:101: reached 100`, held);
    assert.equal(rest, [], held);
    // All 400 records were read at once, yet record 200 holds the work: about half done, not 100%.
    const match = /^op map: (\d+) records {2}[\d,.]+\/s {2}(\d+)% {2}ETA \d+:\d\d$/.exec(line ?? '');
    assert.ok(match, `a progress line: ${JSON.stringify(line)}`);
    const [done, percent] = [Number(match![1]), Number(match![2])];
    assert.ok(done > 0 && done <= 200 && percent > 0 && percent <= 50, `done ${done}, ${percent}%`);
    if (flags.length === 0) assert.equal([done, percent], [200, 50], 'inline, each record counts as it finishes');
    assert.equal(screenLines(after).slice(0, 3), [log, `op map: ${RECORDS} records  ${/[\d,.]+\/s/.exec(after)![0]}  100%  ETA 0:00`, 'op-exit=0'], after);
    assert.is(readFileSync(join(dir, `held${flags.join('')}.out`), 'utf8'), readFileSync(input, 'utf8'));
  });
}

test('in a terminal of 40 columns: the line is cut to 39, never wrapped', async () => {
  const { held, after } = await runInTerminal('narrow', 40, [], (screen) => / 200 records /.test(screen));
  for (const screen of [held, after]) {
    const lines = screenLines(screen).filter((line) => line.startsWith('op map: ') && line.includes('records'));
    assert.is(lines.length, 1, screen);
    assert.ok(lines[0]!.length <= 39, lines[0]);
    assert.match(lines[0]!, /%/, 'the percent stays; the rate went first');
  }
});

test('gzip input: percent from the compressed bytes whose records are done', async () => {
  const gz = join(dir, 'in.ndjson.gz');
  writeFileSync(gz, gzipSync(readFileSync(input)));
  const result = await runOp(['map', 'r', '--progress', '--in', gz]);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stderr, /^op map: 400 records {2}[\d,.]+\/s {2}100% {2}ETA 0:00\n$/);
});

test.after(() => {
  try {
    execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // Already gone with its last session.
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

test.run();

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, ndjson, runOp } from '../helpers/run-op.js';
import { countLines, until } from '../helpers/poll-files.js';

const dir = mkdtempSync(join(tmpdir(), 'opkit-each-journal-'));
const N = 600;
const JOBS = 8;
/** Jobs one kill may repeat beyond those running: the finished jobs of the two chunks whose results had not arrived (~15 each). */
const CHUNK_SLACK = 32;
const inputFile = join(dir, 'input.ndjson');
// ~70 bytes a record, as a job's path and id would be: the journal's first chunk (1 KiB) holds ~15 jobs.
writeFileSync(inputFile, ndjson(Array.from({ length: N }, (_, k) => ({ n: k + 1, path: `videos/${String(k + 1).padStart(6, '0')}-${'x'.repeat(40)}.mp4` }))));
/** Each job appends its number to a calls file (the last argument); every 50th exits 1. */
const SCRIPT = 'echo "$1" >> "$2"; [ $(($1 % 50)) -ne 0 ]';

/** The records without what differs from run to run: each job's duration and the calls file it was given. */
function comparable(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      JSON.parse(line, (key, value: unknown) => {
        if (key === 'ms') return undefined;
        if (key === 'argv') return (value as string[]).slice(0, -1);
        return value;
      }),
    );
}

function eachArgs(calls: string, out: string, errors: string, more: string[] = []): string[] {
  return ['each', '-j', String(JOBS), '--in', inputFile, '--out', out, '--errors', errors, ...more, '--shell', '--', SCRIPT, '{.n}', calls];
}

test("five kill -9 and a resume: every job's output once, each job run once but for those in flight", async () => {
  const name = (what: string): string => join(dir, `kill-${what}`);
  const clean = await runOp(eachArgs(name('clean-calls'), name('clean-out'), name('clean-errors')));
  assert.is(clean.status, 3, clean.stderr);
  const calls = name('calls');
  const args = eachArgs(calls, name('out'), name('errors'), ['--journal', name('journal')]);
  for (let kill = 0; kill < 5; kill++) {
    const child = spawn(process.execPath, [OP, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    // A random moment: 40 to 120 jobs into this run.
    const target = countLines(calls) + 40 + Math.floor(Math.random() * 80);
    await until(() => done || countLines(calls) >= target, `${target} jobs`);
    child.kill('SIGKILL');
    await exited;
  }
  const last = await runOp([...args.slice(0, args.indexOf('--shell')), '--stats', ...args.slice(args.indexOf('--shell'))]);
  assert.is(last.status, 3, last.stderr);
  assert.equal(comparable(name('out')), comparable(name('clean-out')));
  assert.equal(comparable(name('errors')), comparable(name('clean-errors')));
  const stats = JSON.parse(last.stderr.trim().split('\n').pop()!) as { in: number; out: number; resumed: number; errors: number };
  assert.is(stats.in, N);
  assert.is(stats.errors, N / 50);
  assert.ok(stats.resumed > 0, `resumed ${stats.resumed}`);
  // Every job ran at least once, and at most the jobs in flight (and their chunks) again per kill.
  const ran = readFileSync(calls, 'utf8').split('\n').filter(Boolean);
  assert.is(new Set(ran).size, N);
  const bound = N + 5 * (JOBS + CHUNK_SLACK);
  assert.ok(ran.length <= bound, `${ran.length} jobs run, more than ${bound}`);
});

test('a journal written by another command line is refused, naming the handler, unless --force', async () => {
  const journal = join(dir, 'other.journal');
  const input = ndjson([{ n: 1 }, { n: 2 }]);
  const first = await runOp(['each', '--journal', journal, '--', 'echo', '{.n}'], { input });
  assert.is(first.status, 0, first.stderr);
  const refused = await runOp(['each', '--journal', journal, '--', 'echo', 'x{.n}'], { input });
  assert.is(refused.status, 2);
  assert.is(refused.stdout, '');
  assert.match(refused.stderr, /the handler changed/);
  const otherCapture = await runOp(['each', '--journal', journal, '--capture', 'none', '--', 'echo', '{.n}'], { input });
  assert.is(otherCapture.status, 2);
  const forced = await runOp(['each', '--journal', journal, '--force', '--stats', '--', 'echo', 'x{.n}'], { input });
  assert.is(forced.status, 0, forced.stderr);
  assert.is(forced.stdout, first.stdout);
  assert.match(forced.stderr, /"resumed":2/);
});

test.run();

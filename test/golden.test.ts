import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, ROOT, runProcess, type RunResult } from './helpers/run-op.js';

/**
 * Golden cases: test/cases/<command>/<name>/ holds `cmd` (a shell line run in that
 * directory with `op` on PATH), optional `input` (stdin), and the expected `expout`,
 * `experr` and `status`. UPDATE_GOLDEN=1 rewrites the expectations; review the diff.
 */
const CASES = join(ROOT, 'test/cases');
const update = process.env.UPDATE_GOLDEN === '1';
const bin = join(tmpdir(), `opkit-golden-bin-${process.pid}`);
mkdirSync(bin, { recursive: true });
writeFileSync(join(bin, 'op'), `#!/bin/sh\nexec "${process.execPath}" "${OP}" "$@"\n`);
chmodSync(join(bin, 'op'), 0o755);

/**
 * The parts of a message that come from V8 and vary by Node version, in Node 20's form.
 * JSON.parse's `… in JSON at position 6` gains ` (line 1 column 7)` from Node 22 (V8 12).
 * opkit's own words around them must not vary, so only these are rewritten.
 */
function asNode20(text: string): string {
  return text.replace(/( in JSON at position \d+) \(line \d+ column \d+\)/g, '$1');
}

interface Case {
  name: string;
  dir: string;
  cmd: string;
  /** Its outcome depends on time (a --timeout, a sleep, a signal): run alone, never beside another case. */
  timed: boolean;
}

const cases: Case[] = readdirSync(CASES)
  .sort()
  .flatMap((command) =>
    readdirSync(join(CASES, command))
      .sort()
      .map((name) => {
        const dir = join(CASES, command, name);
        const cmd = readFileSync(join(dir, 'cmd'), 'utf8').trim();
        return { name: `${command}/${name}`, dir, cmd, timed: /timeout|sleep|kill/.test(cmd) };
      }),
  );

function runCase({ dir, cmd }: Case): Promise<RunResult> {
  const input = existsSync(join(dir, 'input')) ? readFileSync(join(dir, 'input')) : '';
  return runProcess('/bin/sh', ['-c', cmd], {
    cwd: dir,
    input,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FIXTURES: join(ROOT, 'fixtures'), OP_RANK: '', RANK: '', SLURM_PROCID: '', JOB_COMPLETION_INDEX: '' },
  });
}

/**
 * Each case is a whole op start-up (or several), mostly waiting on it: the cases after the
 * current one start early, AHEAD at a time, each in its own folder. The window stops at a
 * timed case, which runs with nothing beside it.
 */
const AHEAD = 3;
const started = new Map<number, Promise<RunResult>>();
function startAhead(from: number): void {
  for (let k = from; k < Math.min(cases.length, from + AHEAD + 1); k++) {
    if (cases[k]!.timed) break;
    if (started.has(k)) continue;
    const run = runCase(cases[k]!);
    // Awaited by its own test; until then a failure must not count as unhandled.
    run.catch(() => {});
    started.set(k, run);
  }
}

for (const [k, golden] of cases.entries()) {
  const { dir } = golden;
  test(golden.name, async () => {
    if (!golden.timed) startAhead(k);
    const result = golden.timed ? await runCase(golden) : await started.get(k)!;
    started.delete(k);
    const status = `${result.status ?? result.signal}\n`;
    result.stdout = asNode20(result.stdout);
    result.stderr = asNode20(result.stderr);
    if (update) {
      writeFileSync(join(dir, 'expout'), result.stdout);
      writeFileSync(join(dir, 'experr'), result.stderr);
      writeFileSync(join(dir, 'status'), status);
      return;
    }
    assert.is(result.stdout, readFileSync(join(dir, 'expout'), 'utf8'), 'stdout');
    assert.is(result.stderr, readFileSync(join(dir, 'experr'), 'utf8'), 'stderr');
    assert.is(status, readFileSync(join(dir, 'status'), 'utf8'), 'exit status');
  });
}

test.run();

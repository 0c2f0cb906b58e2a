import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, ROOT, runProcess } from './helpers/run-op.js';

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

for (const command of readdirSync(CASES).sort()) {
  for (const name of readdirSync(join(CASES, command)).sort()) {
    const dir = join(CASES, command, name);
    test(`${command}/${name}`, async () => {
      const cmd = readFileSync(join(dir, 'cmd'), 'utf8').trim();
      const input = existsSync(join(dir, 'input')) ? readFileSync(join(dir, 'input')) : '';
      const result = await runProcess('/bin/sh', ['-c', cmd], {
        cwd: dir,
        input,
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FIXTURES: join(ROOT, 'fixtures'), OP_RANK: '', RANK: '', SLURM_PROCID: '', JOB_COMPLETION_INDEX: '' },
      });
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
}

test.run();

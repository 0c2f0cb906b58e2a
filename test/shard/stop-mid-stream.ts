import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as assert from 'uvu/assert';
import { OP } from '../helpers/run-op.js';
import { NO_RANK_ENV } from './op-shell.js';

export interface StoppedRun {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs `op ARGS…` on an endless stdin of records of every size from a few bytes to 300 KB
 * (longer than a read, so byte routing streams lines in pieces), sends `signal` once some
 * output has arrived, and returns what came out. Each record carries its own length, so a
 * torn line cannot pass for a whole one.
 */
export async function stopMidStream(args: string[], signal: NodeJS.Signals, afterBytes: number): Promise<StoppedRun> {
  const child = spawn(process.execPath, [OP, ...args], { env: { ...process.env, ...NO_RANK_ENV, FORCE_COLOR: '0' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let outBytes = 0;
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    outBytes += chunk.length;
    if (!sent && outBytes >= afterBytes) {
      sent = true;
      child.kill(signal);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let exited = false;
  void closed.then(() => (exited = true));
  child.stdin.on('error', () => {});
  // A watchdog, so a run that ignores the signal fails the test instead of hanging it.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
  for (let i = 0; !exited; i++) {
    const size = [3, 70_000, 20, 300_000, 9_000, 1][i % 6] as number;
    const line = `{"i":${i},"n":${size},"pad":"${'x'.repeat(size)}"}\n`;
    if (!child.stdin.write(line)) await Promise.race([once(child.stdin, 'drain').catch(() => undefined), closed]);
  }
  const [status, exitSignal] = await closed;
  clearTimeout(watchdog);
  return { stdout: Buffer.concat(out), stderr, status, signal: exitSignal };
}

/** The lines that are not whole records (empty when all are), and how many lines came. */
export function tornLines(stdout: Buffer): { torn: string[]; count: number } {
  const text = stdout.toString('utf8');
  const torn: string[] = [];
  if (text !== '' && !text.endsWith('\n')) torn.push(`no final newline: …${text.slice(-60)}`);
  const lines = text.split('\n').filter((line) => line !== '');
  for (const line of lines) {
    try {
      const record = JSON.parse(line) as { n: number; pad: string };
      if (record.pad.length !== record.n) torn.push(`${line.slice(0, 60)}…: pad of ${record.pad.length}, not ${record.n}`);
    } catch {
      torn.push(`${line.slice(0, 60)}… (${line.length} bytes)`);
    }
  }
  return { torn, count: lines.length };
}

/** Runs per case: the tear showed in 2 to 4 of every 6 runs before stops waited for a line end. */
const RUNS = 6;

/** SIGINT and SIGTERM, alternating over RUNS runs, each leaves only whole lines and exits 130/143. */
export async function assertStopsOnLine(args: readonly string[]): Promise<void> {
  for (let run = 0; run < RUNS; run++) {
    const signal = run % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    const result = await stopMidStream([...args], signal, 200_000 + run * 150_000);
    const { torn, count } = tornLines(result.stdout);
    assert.equal(torn, [], `run ${run} (${signal}): torn lines`);
    assert.ok(count > 0, 'some records came out');
    assert.is(result.status, signal === 'SIGINT' ? 130 : 143, `run ${run}: ${result.stderr}`);
  }
}

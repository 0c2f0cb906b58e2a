import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';
import { OP, lines } from './run-op.js';

/** An op run fed one record at a time: send a record, wait for its output line. */
export interface LiveOp {
  /** Writes `record` (one NDJSON line) and resolves to the n-th output record (1-based). */
  reply<T>(record: string, n: number): Promise<T>;
  /** Ends the input; resolves to the exit status. */
  end(): Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

export function startLive(args: string[], cwd: string): LiveOp {
  const op = spawn(process.execPath, [OP, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  op.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  op.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) => op.on('close', resolve));
  return {
    async reply<T>(record: string, n: number): Promise<T> {
      op.stdin.write(`${record}\n`);
      const deadline = Date.now() + 30_000;
      while (lines(stdout).length < n) {
        if (Date.now() > deadline) {
          op.kill('SIGKILL');
          assert.unreachable(`no reply ${n}; stderr: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return lines(stdout)[n - 1] as T;
    },
    end() {
      op.stdin.end();
      return closed;
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

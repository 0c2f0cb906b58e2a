import { spawn, type ChildProcess } from 'node:child_process';
import { until as waitUntil } from '../helpers/poll-files.js';
import { OP, ROOT } from '../helpers/run-op.js';

/** `op reduce` on a pipe that stays open: records are written while its output is watched. */
export class LiveReduce {
  stdout = '';
  stderr = '';
  status: number | null | undefined;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [OP, 'reduce', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.closed = new Promise((resolve) =>
      this.child.on('close', (status) => {
        this.status = status;
        resolve();
      }),
    );
  }

  write(value: unknown): void {
    this.child.stdin!.write(JSON.stringify(value) + '\n');
  }

  get records(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Ends the input and waits for the process to exit. */
  async end(): Promise<void> {
    this.child.stdin!.end();
    await this.closed;
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Waits for the process to exit (after a signal). */
  exited(): Promise<void> {
    return this.closed;
  }

  kill(): void {
    if (this.status === undefined) this.child.kill('SIGKILL');
  }
}

/** Polls `condition` every 20 ms; fails after `ms` with what was awaited. */
export { waitUntil };

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { parentDeathPrefix } from './parent-death.js';

/** How one run of a worker ended: its exit code, or the signal that ended it. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started at all (`EAGAIN`, …). */
  error: string | undefined;
}

export interface WorkerProcess {
  /** Also its process group id: the worker leads a group of its own. */
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves when the worker itself exits (what it started may live on in its group). */
  readonly exited: Promise<WorkerExit>;
}

/**
 * Starts one run of COMMAND, an argv array and never a shell string, as the leader of a
 * new session and process group (`detached`): a signal to the group reaches everything the
 * worker started, and a Ctrl-C at the terminal reaches op run alone, which forwards it.
 * stdin is /dev/null: N workers reading one stream would each get random pieces of it.
 */
export function spawnWorker(command: readonly string[], env: NodeJS.ProcessEnv): WorkerProcess {
  const [file = '', ...args] = [...parentDeathPrefix(env), ...command];
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, error: undefined }));
    child.once('error', (error: NodeJS.ErrnoException) => {
      // After a successful start, 'error' only reports a failed kill(); 'exit' still comes.
      if (child.pid === undefined) resolve({ code: error.code === 'ENOENT' ? 127 : 126, signal: null, error: error.code ?? error.message });
    });
  });
  return { pid: child.pid, stdout: child.stdout as Readable, stderr: child.stderr as Readable, exited };
}

/** The status a shell would report: the exit code, or 128 + the number of the signal. */
export function statusOf(exit: WorkerExit): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal !== null ? constants.signals[exit.signal] : 0);
}

import { execa } from 'execa';
import { terminateGroup } from '../io/process-group.js';
import { StderrTail } from '../io/stderr-tail.js';

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Why the command could not be started (`ENOENT`, …); then there is no exit code. */
  spawnError: string | undefined;
  durationMs: number;
  stderrTail: string;
}

export interface RunningCommand {
  /** Also the process group id: the command leads its own group. */
  readonly pid: number | undefined;
  readonly result: Promise<RunResult>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves with the run's result. */
  terminate(graceMs: number): Promise<RunResult>;
}

/**
 * Starts one run of COMMAND: an argv array, never a shell string, in a process group of its
 * own (`detached`), so that stopping it reaches every process it started and a Ctrl-C at
 * the terminal reaches op watch alone, which then decides how runs end. stdout is the
 * watcher's stdout; stderr is kept as a tail for the report.
 */
export function startCommand(argv: readonly string[], env: Record<string, string>): RunningCommand {
  const [file = '', ...args] = argv;
  const tail = new StderrTail();
  const subprocess = execa(file, args, {
    detached: true,
    // We stop runs ourselves, group-wide; execa's cleanup would signal the leader alone.
    cleanup: false,
    forceKillAfterDelay: false,
    stdin: 'ignore',
    stdout: 'inherit',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    env,
  });
  subprocess.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
  const result = subprocess.then((done) => ({
    exitCode: done.exitCode,
    signal: done.signal,
    spawnError: done.failed && done.exitCode === undefined && done.signal === undefined ? describeSpawnError(done.code, done.shortMessage) : undefined,
    durationMs: Math.round(done.durationMs),
    stderrTail: tail.text(),
  }));
  const pid = subprocess.pid;
  return {
    pid,
    result,
    async terminate(graceMs: number) {
      if (pid !== undefined) await terminateGroup(pid, graceMs);
      return result;
    },
  };
}

function describeSpawnError(code: unknown, message: unknown): string {
  if (typeof code === 'string' && code !== '') return code;
  return typeof message === 'string' ? message : 'cannot start';
}

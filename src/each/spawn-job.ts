import { spawn, type StdioOptions } from 'node:child_process';
import { signalGroup } from '../io/process-group.js';
import { StderrTail } from '../io/stderr-tail.js';
import { BoundedCapture } from './bounded-capture.js';
import { JobGroups, type TrackedJob } from './job-groups.js';

export interface JobRequest {
  argv: string[];
  cwd: string | undefined;
  /** Bytes for the job's stdin; undefined gives it /dev/null. */
  stdin: string | undefined;
  captureStdout: boolean;
  captureStderr: boolean;
  maxOutput: number;
  timeout: number | undefined;
  killAfter: number;
}

export interface JobOutcome {
  exit: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: BoundedCapture | undefined;
  stderr: BoundedCapture | undefined;
  stderrTail: string;
  timedOut: boolean;
  /** Why the program could not be started (ENOENT, EACCES, …). */
  spawnError: string | undefined;
}

/** A job that was started: its result, and a way to end it early. */
export interface StartedJob {
  readonly outcome: Promise<JobOutcome>;
  /** TERM to the job's group now, KILL after `graceMs`. */
  terminate(graceMs: number): void;
}

/** Starts jobs and ends them: from op's own process (below), or through the job runner (job-runner.ts). */
export interface JobLauncher {
  start(request: JobRequest): StartedJob;
  /** TERM to every running job's group, KILL after `graceMs`. */
  terminateRunning(graceMs: number): void;
  /** At the end of the run: end what jobs left running in their groups. */
  endLingering(graceMs: number): Promise<void>;
  /** On any way out, at once: KILL every group still there. */
  killAll(): void;
  /** Releases what the launcher holds, once no job runs. */
  close(): Promise<void>;
}

/** Jobs started by op's own process with Node's spawn. */
export class NodeLauncher implements JobLauncher {
  private readonly groups = new JobGroups();

  start(request: JobRequest): StartedJob {
    return startJob(request, this.groups);
  }

  terminateRunning(graceMs: number): void {
    this.groups.terminateRunning(graceMs);
  }

  endLingering(graceMs: number): Promise<void> {
    return this.groups.endLingering(graceMs);
  }

  killAll(): void {
    this.groups.killAll();
  }

  async close(): Promise<void> {
    this.groups.dispose();
  }
}

/**
 * Starts one program, never through a shell: argv[0] is looked up on PATH and every other
 * word reaches it as one argument. The job leads a process group of its own (`detached`
 * calls setsid), so a timeout or a stop reaches everything it started, and a Ctrl-C at the
 * terminal reaches op alone, which then decides how jobs end.
 */
export function startJob(request: JobRequest, groups: JobGroups): StartedJob {
  const started = performance.now();
  const stdio: StdioOptions = [request.stdin === undefined ? 'ignore' : 'pipe', request.captureStdout ? 'pipe' : 'ignore', 'pipe'];
  const [file = '', ...args] = request.argv;
  const stdout = request.captureStdout ? new BoundedCapture(request.maxOutput) : undefined;
  const stderr = request.captureStderr ? new BoundedCapture(request.maxOutput) : undefined;
  const tail = new StderrTail();
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let tracked: TrackedJob | undefined;

  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(file, args, { detached: true, stdio, cwd: request.cwd });
  } catch (error) {
    // A NUL byte in a word, an empty file name: nothing was started.
    const outcome: JobOutcome = { exit: null, signal: null, ms: 0, stdout, stderr, stderrTail: '', timedOut, spawnError: (error as Error).message };
    return { outcome: Promise.resolve(outcome), terminate: () => {} };
  }
  const pid = child.pid;
  const terminate = (graceMs: number): void => {
    if (closed || pid === undefined || killTimer !== undefined) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  };
  if (pid !== undefined) {
    tracked = { pgid: pid, terminate };
    groups.add(tracked);
    if (request.timeout !== undefined) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        terminate(request.killAfter);
      }, request.timeout);
    }
  }
  if (request.stdin !== undefined) {
    // A program that never reads its stdin closes the pipe: EPIPE is its choice, not a failure.
    child.stdin?.on('error', () => {});
    child.stdin?.end(request.stdin);
  }
  child.stdout?.on('data', (chunk: Buffer) => stdout?.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr?.push(chunk);
    tail.push(chunk);
  });

  const outcome = new Promise<JobOutcome>((resolve) => {
    const finish = (exit: number | null, signal: NodeJS.Signals | null, spawnError: string | undefined): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      if (tracked) {
        // A job being ended takes whatever it left in its group with it.
        if (killTimer !== undefined) signalGroup(tracked.pgid, 'SIGKILL');
        groups.remove(tracked);
      }
      resolve({ exit, signal, ms: Math.round(performance.now() - started), stdout, stderr, stderrTail: tail.text(), timedOut, spawnError });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (pid === undefined) finish(null, null, error.code ?? error.message);
    });
    // 'close', not 'exit': everything the job printed has been read by then.
    child.on('close', (code, signal) => finish(code, signal, undefined));
  });
  return { outcome, terminate };
}

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PYTHON_DIR } from '../io/python-dir.js';
import { signalGroup } from '../io/process-group.js';
import { StderrTail } from '../io/stderr-tail.js';
import { BoundedCapture } from './bounded-capture.js';
import { JobGroups, type TrackedJob } from './job-groups.js';
import type { JobLauncher, JobOutcome, JobRequest, StartedJob } from './spawn-job.js';

/** `OP_EACH_RUNNER=node` starts jobs from op's own process, even where python3 is there. */
const RUNNER_VARIABLE = 'OP_EACH_RUNNER';

const EMPTY = Buffer.alloc(0);

/** How long the runner may take to say it is ready before op each starts jobs itself. */
const READY_MS = 10_000;

/**
 * The runner's reply for a job that has ended (python/opkit_jobs.py): a line of JSON, then
 * `ol` bytes of stdout, `el` of stderr and `tl` of stderr's tail.
 */
interface Ended {
  i: number;
  x: number | null;
  s: NodeJS.Signals | null;
  ms: number;
  ol: number;
  ot: number;
  el: number;
  et: number;
  tl: number;
  to: boolean;
  err: string | null;
}

/** The runner's word that a job runs, leading process group `p`. */
interface Started {
  s: number;
  p: number;
}

interface Pending {
  request: JobRequest;
  resolve: (outcome: JobOutcome) => void;
  ending: boolean;
  /** The job's group, once the runner has started it. */
  tracked: TrackedJob | undefined;
}

type Runner = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * The job runner: python/opkit_jobs.py, one small resident process that starts every job of
 * the run. A fork from op's own process copies its ~85 MB address space and blocks op's event
 * loop until the job has exec'd; from the runner a job costs a fraction of that (CPython
 * starts it with vfork). Undefined where it cannot start (no python3, one older than 3.9, or
 * OP_EACH_RUNNER=node): op each then starts jobs itself, with the same behaviour.
 */
export async function openJobRunner(env: NodeJS.ProcessEnv = process.env): Promise<JobLauncher | undefined> {
  if (env[RUNNER_VARIABLE] === 'node' || PYTHON_DIR === undefined) return undefined;
  const python = findPython(env.PATH);
  if (python === undefined) return undefined;
  let child: Runner;
  try {
    // -I: no user site or PYTHON* variables; -S: no site module (a faster start).
    // detached: a group of its own, so a Ctrl-C at the terminal reaches op alone.
    child = spawn(python, ['-I', '-S', join(PYTHON_DIR, 'opkit_jobs.py')], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  } catch {
    return undefined;
  }
  const launcher = new RunnerLauncher(child);
  if (await launcher.ready) return launcher;
  child.kill('SIGKILL');
  await launcher.close();
  return undefined;
}

class RunnerLauncher implements JobLauncher {
  readonly ready: Promise<boolean>;
  private readonly pending = new Map<number, Pending>();
  private readonly groups = new JobGroups();
  private readonly stderr = new StderrTail();
  private nextId = 1;
  /** The start of a reply line whose end has not come. */
  private line: Buffer = EMPTY;
  /** A reply whose bytes have not all come, and where they go. */
  private header: Ended | undefined;
  private payload: Buffer | undefined;
  private filled = 0;
  private exited: Promise<void>;
  /** Why the runner stopped, once it has. */
  private gone: string | undefined;
  private markReady: (ready: boolean) => void = () => {};

  constructor(private readonly child: Runner) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    const timer = setTimeout(() => this.markReady(false), READY_MS);
    timer.unref();
    child.stdout.on('data', (chunk: Buffer) => this.read(chunk));
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    // A runner gone mid-run shows as its exit; a request written after that is dropped here.
    child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.on('error', () => {
        this.stopped('could not start the job runner');
        resolve();
      });
      child.on('close', (code, signal) => {
        this.stopped(`the job runner exited (${signal ?? `exit ${code}`})${this.stderr.text() ? `: ${this.stderr.text()}` : ''}`);
        resolve();
      });
    });
  }

  start(request: JobRequest): StartedJob {
    const id = this.nextId++;
    let resolve: (outcome: JobOutcome) => void = () => {};
    const outcome = new Promise<JobOutcome>((done) => (resolve = done));
    if (this.gone !== undefined) {
      resolve(failed(request, this.gone));
      return { outcome, terminate: () => {} };
    }
    const pending: Pending = { request, resolve, ending: false, tracked: undefined };
    this.pending.set(id, pending);
    this.send({
      i: id,
      a: request.argv.map(wellFormed),
      c: request.cwd ?? null,
      n: request.stdin === undefined ? null : wellFormed(request.stdin),
      o: request.captureStdout,
      e: request.captureStderr,
      m: request.maxOutput,
      t: request.timeout ?? null,
      k: request.killAfter,
    });
    return { outcome, terminate: (graceMs) => this.end(id, pending, graceMs) };
  }

  terminateRunning(graceMs: number): void {
    for (const [id, pending] of this.pending) this.end(id, pending, graceMs);
  }

  /** TERM to the job's group now, KILL after `graceMs`: the runner does both, once. */
  private end(id: number, pending: Pending, graceMs: number): void {
    if (pending.ending || !this.pending.has(id)) return;
    pending.ending = true;
    this.send({ x: id, g: graceMs });
  }

  endLingering(graceMs: number): Promise<void> {
    return this.groups.endLingering(graceMs);
  }

  killAll(): void {
    this.groups.killAll();
    // The runner kills every job it still runs when its stdin ends.
    this.child.stdin.destroy();
  }

  /** Ends the runner once its jobs are done, and waits for it to go. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
    this.groups.dispose();
  }

  private send(message: object): void {
    if (this.gone === undefined) this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  private read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.payload !== undefined) {
        // A job's bytes: copied into one buffer of their size, so no read outlives its turn.
        const take = Math.min(chunk.length - at, this.payload.length - this.filled);
        chunk.copy(this.payload, this.filled, at, at + take);
        this.filled += take;
        at += take;
        if (this.filled === this.payload.length) this.finishPayload();
        continue;
      }
      const eol = chunk.indexOf(10, at);
      if (eol < 0) {
        this.line = Buffer.concat([this.line, chunk.subarray(at)]);
        break;
      }
      const text = this.line.length === 0 ? chunk.toString('latin1', at, eol) : Buffer.concat([this.line, chunk.subarray(at, eol)]).toString('latin1');
      this.line = EMPTY;
      at = eol + 1;
      let reply: Ended | Started | { ready: 1 };
      try {
        reply = JSON.parse(text) as Ended | Started | { ready: 1 };
      } catch {
        // Not the runner's protocol: the jobs it ran fail, and op starts no more through it.
        this.stopped(`the job runner sent something that is not a reply: ${JSON.stringify(text.slice(0, 80))}`);
        this.child.kill('SIGKILL');
        return;
      }
      if ('i' in reply) {
        this.header = reply;
        this.payload = Buffer.allocUnsafe(reply.ol + reply.el + reply.tl);
        this.filled = 0;
        if (this.payload.length === 0) this.finishPayload();
      } else if ('p' in reply) this.track(reply);
      else this.markReady(true);
    }
  }

  private finishPayload(): void {
    const header = this.header!;
    const payload = this.payload!;
    this.header = undefined;
    this.payload = undefined;
    const { ol, el } = header;
    this.finish(header, payload.subarray(0, ol), payload.subarray(ol, ol + el), payload.subarray(ol + el));
  }

  /**
   * op knows every job's group as well as the runner does: if the runner goes, op still ends
   * them, and on a hard exit (a second Ctrl-C) op kills them itself.
   */
  private track(reply: Started): void {
    const pending = this.pending.get(reply.s);
    if (pending === undefined) return;
    pending.tracked = { pgid: reply.p, terminate: (graceMs) => this.end(reply.s, pending, graceMs) };
    this.groups.add(pending.tracked);
  }

  private finish(reply: Ended, stdout: Buffer, stderr: Buffer, tailBytes: Buffer): void {
    const pending = this.pending.get(reply.i);
    if (pending === undefined) return;
    this.pending.delete(reply.i);
    const { request } = pending;
    // A group still there once its leader has gone is ended when op ends.
    if (pending.tracked) this.groups.remove(pending.tracked);
    const tail = new StderrTail();
    if (tailBytes.length > 0) tail.push(tailBytes);
    pending.resolve({
      exit: reply.x,
      signal: reply.s,
      ms: reply.ms,
      stdout: request.captureStdout ? BoundedCapture.of(request.maxOutput, stdout, reply.ot) : undefined,
      stderr: request.captureStderr ? BoundedCapture.of(request.maxOutput, stderr, reply.et) : undefined,
      stderrTail: tail.text(),
      timedOut: reply.to,
      spawnError: reply.err ?? undefined,
    });
  }

  /** The runner is gone: the jobs it ran end as failures, and nothing more is sent. */
  private stopped(why: string): void {
    this.markReady(false);
    if (this.gone !== undefined) return;
    this.gone = why;
    for (const pending of this.pending.values()) {
      if (pending.tracked) {
        signalGroup(pending.tracked.pgid, 'SIGKILL');
        this.groups.remove(pending.tracked);
      }
      pending.resolve(failed(pending.request, why));
    }
    this.pending.clear();
  }
}

/**
 * The first python3 on PATH that is a program, not a script: a version manager's shim (pyenv)
 * is a shell script that costs ~80 ms a start before Python itself starts, and the runner
 * needs only the standard library of any Python 3.9 or later. With none but scripts on PATH,
 * the first of them; with none at all, undefined.
 */
export function findPython(path = ''): string | undefined {
  let first: string | undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'python3');
    let head: Buffer;
    try {
      accessSync(candidate, constants.X_OK);
      head = Buffer.alloc(2);
      const fd = openSync(candidate, 'r');
      try {
        readSync(fd, head, 0, 2, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      continue;
    }
    if (head.toString('latin1') !== '#!') return candidate;
    first ??= candidate;
  }
  return first;
}

function failed(request: JobRequest, why: string): JobOutcome {
  const capture = (on: boolean): BoundedCapture | undefined => (on ? new BoundedCapture(request.maxOutput) : undefined);
  return { exit: null, signal: null, ms: 0, stdout: capture(request.captureStdout), stderr: capture(request.captureStderr), stderrTail: '', timedOut: false, spawnError: why };
}

/**
 * A lone surrogate cannot be encoded as UTF-8. Node's spawn writes U+FFFD in its place; the
 * runner would write other bytes, so it is replaced here, the same way.
 */
function wellFormed(text: string): string {
  return /[\ud800-\udfff]/.test(text) ? Buffer.from(text, 'utf8').toString('utf8') : text;
}

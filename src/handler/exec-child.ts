import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatherReads } from '../io/gather-reads.js';
import { LineCutter, prefixLines } from '../io/line-cutter.js';
import { isTreeAsleep, signalGroup } from '../io/process-group.js';
import { openReplyPipe } from '../io/reply-pipe.js';
import { StderrTail } from '../io/stderr-tail.js';

/** The dead letters of a child's failures quote this much of its stderr. */
const TAIL_LINES = 20;
const TAIL_BYTES = 8192;
/** A stderr line longer than this is let out in pieces rather than held whole in memory. */
const MAX_STDERR_LINE = 64 * 1024;
/** How long a child may take between TERM and KILL. */
export const KILL_AFTER_MS = 2000;
/** After a child exits, how long its stdout may stay open (a process it left holds it) before it is cut. */
const STDOUT_AFTER_EXIT_MS = 1000;

export interface ChildSpec {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** `exec#2`: names the child in messages. */
  label: string;
  /** Put before each stderr line it forwards: `[op map exec#2] `. */
  prefix: string;
}

/** How a child ended. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started at all (ENOENT, EACCES, …). */
  spawnError: NodeJS.ErrnoException | undefined;
}

/** What a child tells its owner: reply bytes as they come, and its end. */
export interface ChildEvents {
  data(child: ExecChild, chunk: Buffer): void;
  /** Its stdout closed while it still runs: it can answer nothing more. */
  stdoutClosed(child: ExecChild): void;
  /** It ended, and what it wrote to stdout has been handed to `data`. */
  ended(child: ExecChild, end: ChildEnd): void;
}

/**
 * One persistent child process: argv run without a shell, as the leader of its own process
 * group (setsid, as op each and op watch start theirs), so a Ctrl-C at the terminal reaches
 * op alone and a TERM or KILL from op reaches everything the child started. Its stderr is
 * forwarded in whole lines, each prefixed, and the last 20 kept for dead letters.
 */
export class ExecChild {
  readonly label: string;
  readonly tail = new StderrTail(TAIL_LINES, TAIL_BYTES);
  /** Set once it ended: its exit status, signal or spawn failure. */
  end: ChildEnd | undefined;
  /** Resolves when it ended. */
  readonly ended: Promise<ChildEnd>;
  /** False once its stdin was closed (end of input) or it is being ended. */
  inputOpen = true;
  /** True once op closed its stdin for the end of input. */
  inputEnded = false;
  /** True once op asked it to end (TERM, KILL, a replaced child). */
  ending = false;
  /** When it got past its start-up (started() resolved); undefined before. */
  startedAt: number | undefined;
  private readonly process: ChildProcess;
  /** Its stdout: a pipe of op's own (io/reply-pipe.ts), else Node's socket pair. */
  private readonly stdout: Readable | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private exitTimer: NodeJS.Timeout | undefined;
  private readonly cutter = new LineCutter(MAX_STDERR_LINE);
  private readonly prefix: Buffer;
  private endGathering: (() => void) | undefined;

  constructor(
    spec: ChildSpec,
    private readonly events: ChildEvents,
  ) {
    this.label = spec.label;
    this.prefix = Buffer.from(spec.prefix);
    const [file = '', ...args] = spec.argv;
    let resolveEnded: (end: ChildEnd) => void = () => {};
    this.ended = new Promise((resolve) => (resolveEnded = resolve));
    const finish = (end: ChildEnd): void => {
      if (this.end) return;
      this.end = end;
      this.inputOpen = false;
      clearTimeout(this.killTimer);
      clearTimeout(this.exitTimer);
      this.flushStderr();
      resolveEnded(end);
      this.events.ended(this, end);
    };
    const pipe = openReplyPipe();
    try {
      this.process = spawn(file, args, { detached: true, stdio: ['pipe', pipe?.write ?? 'pipe', 'pipe'], env: spec.env });
    } catch (error) {
      // A NUL byte in a word: nothing was started.
      if (pipe) {
        closeSync(pipe.read);
        closeSync(pipe.write);
      }
      this.process = undefined as unknown as ChildProcess;
      queueMicrotask(() => finish({ code: null, signal: null, spawnError: error as NodeJS.ErrnoException }));
      return;
    }
    const child = this.process;
    // The child holds the write end now; op's copy would keep the pipe open after it exits.
    if (pipe) closeSync(pipe.write);
    const stdout: Readable = pipe ? new Socket({ fd: pipe.read, readable: true, writable: false }) : child.stdout!;
    this.stdout = stdout;
    // A child that stops reading (or has ended) makes its stdin fail; its end is reported by 'exit'.
    child.stdin!.on('error', () => {});
    stdout.on('error', () => {});
    this.endGathering = gatherReads(stdout, (chunk) => this.events.data(this, chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.forwardStderr(chunk));
    let exited = false;
    // Node's 'close' waits for the stdio it made, not for a pipe of op's own: the end is
    // reported once both are closed, so every reply written before it has been handed on.
    let stdoutOpen = true;
    let closed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    stdout.once('close', () => {
      stdoutOpen = false;
      if (!exited && !this.end) this.events.stdoutClosed(this);
      if (closed) finish({ ...closed, spawnError: undefined });
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish({ code: null, signal: null, spawnError: error });
    });
    child.on('exit', (code, signal) => {
      exited = true;
      // What it wrote before exiting is still in the pipes ('close' follows once they are read),
      // unless a process it left holds them open.
      // Kept referenced: whoever waits for this child's end must never find the event loop empty.
      this.exitTimer = setTimeout(() => {
        stdout.destroy();
        child.stderr!.destroy();
        finish({ code, signal, spawnError: undefined });
      }, STDOUT_AFTER_EXIT_MS);
    });
    child.on('close', (code, signal) => {
      closed = { code, signal };
      if (!stdoutOpen) finish({ code, signal, spawnError: undefined });
    });
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Records for the child; the caller bounds what is in flight, so Node's buffer stays bounded too. */
  write(bytes: Uint8Array): void {
    if (this.inputOpen) this.process.stdin!.write(bytes);
  }

  /** End of input: the child reads EOF once it has read what was written. */
  endInput(): void {
    if (!this.inputOpen) return;
    this.inputOpen = false;
    this.inputEnded = true;
    this.process?.stdin?.end();
  }

  /** TERM to its group now, KILL after `graceMs`; what it still writes is ignored. */
  terminate(graceMs = KILL_AFTER_MS): void {
    this.stopListening();
    const pid = this.pid;
    if (this.end || pid === undefined || this.killTimer !== undefined) return;
    signalGroup(pid, 'SIGTERM');
    this.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  }

  /** KILL to its group now. */
  kill(): void {
    this.stopListening();
    const pid = this.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
  }

  /**
   * Resolves once the child is past its start-up: asleep (waiting for input; io/process-group.ts)
   * or ended, whichever comes first. Where /proc cannot tell, after `fallbackMs`; a child
   * still busy after `maxMs` (loading a large model) counts as started.
   */
  async started(maxMs: number, fallbackMs: number): Promise<void> {
    const begun = Date.now();
    // Asleep at two looks in a row: a program starting up may sleep for a moment on its way
    // (a Python that is about to fail on a syntax error was once seen asleep, and taken as started).
    let asleepBefore = false;
    for (let wait = 1; !this.end; wait = Math.min(wait * 2, 20)) {
      const pid = this.pid;
      const asleep = pid === undefined ? false : isTreeAsleep(pid);
      const elapsed = Date.now() - begun;
      if ((asleep === true && asleepBefore) || elapsed >= maxMs || (asleep === undefined && elapsed >= fallbackMs)) break;
      asleepBefore = asleep === true;
      await Promise.race([sleep(wait), this.ended]);
    }
    this.startedAt = Date.now();
  }

  /** Replaced or being ended: its replies and its stdin no longer matter. */
  private stopListening(): void {
    this.ending = true;
    this.inputOpen = false;
    if (!this.process) return;
    this.process.stdin?.destroy();
    this.endGathering?.();
    this.stdout?.removeAllListeners('data');
    this.stdout?.resume();
  }

  private forwardStderr(chunk: Buffer): void {
    this.tail.push(chunk);
    const lines = this.cutter.push(chunk);
    if (lines) process.stderr.write(prefixLines(lines, this.prefix));
  }

  private flushStderr(): void {
    const rest = this.cutter.end();
    if (rest) process.stderr.write(prefixLines(rest, this.prefix));
  }
}

/** `python3 score.py --model small`, for messages: the words as typed, quoted where needed. */
export function showArgv(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

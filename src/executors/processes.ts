import { isUtf8 } from 'node:buffer';
import { backoffMs } from '../core/backoff.js';
import { OpError, TimeoutError, UnsettledError, UsageError } from '../core/errors.js';
import { isGroupAlive, signalGroup } from '../io/process-group.js';
import type { Chunk, ChunkResult, ChunkSetup } from '../records/chunk.js';
import { childEnv } from '../handler/exec-env.js';
import { ExecChild, KILL_AFTER_MS, showArgv, type ChildEnd } from '../handler/exec-child.js';
import { jsonPayload, linesPayload } from './exec-payload.js';
import { ProtocolError, excerpt, readJsonReply, takeParsed, takeValue } from './exec-replies.js';
import type { ReplyError } from '../handler/reply-error.js';
import { ExecTask, PENDING } from './exec-task.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { RestartBudget } from './restart-budget.js';
import { TaskSizer } from './task-sizer.js';

/**
 * The largest chunk: 128 KiB, two pipe buffers (64 KiB on Linux), so one write fills the
 * pipe and the next is waiting in op. OP_EXEC_CHUNK_BYTES overrides it, for benchmarks.
 */
const MAX_CHUNK_BYTES = Number(process.env.OP_EXEC_CHUNK_BYTES) || 128 * 1024;
/** Jobs in flight per child: one it works on, more waiting in its pipe, so it never waits for op. */
const JOBS_PER_CHILD = 3;
/** Chunks the trunk may hand over per child: those in flight, and one queued behind them. */
const CHUNKS_PER_CHILD = JOBS_PER_CHILD + 1;
/** A child counts as started once asleep (waiting for input); one still busy after this is let be. */
const STARTUP_MAX_MS = 5000;
/** Where /proc cannot tell whether a child is asleep: the time it has to fail on its own. */
const STARTUP_FALLBACK_MS = 100;
/** A reply line longer than this (without a newline) breaks the protocol. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;
/** A child that closed its stdout is given this long to exit, so its exit status names the failure. */
const STDOUT_CLOSED_GRACE_MS = 200;

export interface ProcessOptions {
  /** The command after `--`: argv, no shell. */
  argv: string[];
  protocol: 'lines' | 'json';
  /** Child processes (-w). */
  workers: number;
  /** Replacements of failed children allowed within a minute. */
  maxRestarts: number;
  /** How long children may take to exit after their input ended. */
  stopTimeout: number;
  /** Aborted when the output is gone: records in flight are dropped. */
  signal: AbortSignal;
  /** --side: where the versions are published, and the current one (sent with each record). */
  side?: { dir: string; version(): number } | undefined;
}

/** A run of units sent to one child in one write. */
interface Job {
  task: ExecTask;
  units: number[];
  /** Rerun alone after a child failed with it in flight: its child runs nothing else meanwhile. */
  solo: boolean;
  /** Replies taken (lines: in order). */
  answered: number;
  bytes: number;
  sentAt: number;
}

/** One of the N child positions (OP_WORKER_ID), and the child in it. */
interface Slot {
  id: number;
  child: ExecChild | undefined;
  /** Jobs in flight, in the order they were sent. */
  jobs: Job[];
  /** --protocol json: units in flight by id, oldest first. */
  sent: Map<number, { job: Job; unit: number }>;
  /** The unfinished reply line, in pieces. */
  partial: Buffer[];
  partialBytes: number;
  /** Since when the oldest record in flight has been the oldest (what --timeout measures). */
  headSince: number;
  headId: number | undefined;
  /** When the last job finished: the next one's work started then (task sizing). */
  lastDone: number;
  /** No child starts here before this (backoff after a failure). */
  notBefore: number;
  spawnTimer: NodeJS.Timeout | undefined;
}

/**
 * The handler as N persistent child processes in any language, speaking NDJSON over their
 * stdin and stdout (--protocol lines, or json with ids). Chunks go to the child with the
 * least in flight, many records per write, a bounded number of them in flight per child.
 * A child that exits, closes its stdout or breaks the protocol is replaced (with backoff,
 * within --max-restarts a minute) and the records it had in flight are rerun one at a
 * time, so only a record that breaks a child again fails; a record past --timeout costs
 * its child (TERM, KILL 2 s later) and one attempt, the others in flight none.
 */
export class ProcessesExecutor implements Executor {
  readonly capacity: number;
  readonly slotBytes = MAX_CHUNK_BYTES;
  readonly readAhead = false;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  /** Units to rerun one at a time (their child failed while they were in flight). */
  private readonly soloQueue: Array<{ task: ExecTask; unit: number }> = [];
  private readonly tasks = new Set<ExecTask>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly budget: RestartBudget;
  private readonly sizer = new TaskSizer(MAX_CHUNK_BYTES);
  /** Every process group started, so none outlives op. */
  private readonly groups = new Set<number>();
  /** Children that ended with a failing status after their input ended (reported by close). */
  private readonly endFailures: string[] = [];
  private readonly watchdog: NodeJS.Timeout | undefined;
  private nextId = 0;
  private inputEnded = false;
  /** While the first children start: one that ends is a usage error, not a failure to recover from. */
  private starting = true;
  private startProblem: string | undefined;
  private failure: OpError | undefined;
  private aborted: OpError | undefined;
  /** The output closed: nothing more is run or counted. */
  private outputGone = false;
  private readonly onExit = (): void => {
    for (const pgid of this.groups) signalGroup(pgid, 'SIGKILL');
  };
  /**
   * The event loop ran empty with records in flight: nothing can answer them any more (every
   * child is gone and nothing is scheduled). They fail, rather than Node ending the process
   * with exit 13 and the finished records unwritten.
   */
  private readonly onEmptyLoop = (): void => {
    if (this.tasks.size > 0) this.giveUp(new UnsettledError('no child process left to answer'));
  };

  private constructor(
    private readonly setup: ChunkSetup,
    private readonly options: ProcessOptions,
  ) {
    this.capacity = options.workers * CHUNKS_PER_CHILD;
    this.budget = new RestartBudget(options.maxRestarts);
    this.slots = Array.from({ length: options.workers }, (_, k) => ({ id: k + 1, child: undefined, jobs: [], sent: new Map(), partial: [], partialBytes: 0, headSince: 0, headId: undefined, lastDone: 0, notBefore: 0, spawnTimer: undefined }));
    process.on('exit', this.onExit);
    process.on('beforeExit', this.onEmptyLoop);
    options.signal.addEventListener('abort', () => this.dropInFlight(), { once: true });
    const timeout = setup.timeout;
    if (timeout !== undefined) {
      this.watchdog = setInterval(() => this.checkTimeouts(timeout), Math.max(5, Math.min(250, timeout / 4)));
      this.watchdog.unref();
    }
  }

  /**
   * Starts every child and waits until each is past its start-up. One that cannot be started
   * (not found, not executable) or ends first is a usage error, before any input is read.
   */
  static async start(setup: ChunkSetup, options: ProcessOptions): Promise<ProcessesExecutor> {
    const executor = new ProcessesExecutor(setup, options);
    const children = executor.slots.map((slot) => executor.spawn(slot));
    await Promise.all(children.map((child) => child.started(STARTUP_MAX_MS, STARTUP_FALLBACK_MS)));
    // What a child wrote before it began to wait is read in the next polls of the event loop
    // (a pipe whose reading started in this turn is first polled in the next one).
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    const failed = children.find((child) => child.end !== undefined);
    if (failed || executor.startProblem) {
      await executor.stopAll();
      executor.dispose();
      throw new UsageError(failed ? startFailure(options.argv, failed.end!) : executor.startProblem!);
    }
    executor.starting = false;
    return executor;
  }

  chunkBytes(): number {
    return this.sizer.next();
  }

  async run(chunk: Chunk, options: ExecuteOptions): Promise<ChunkResult> {
    if (this.failure) throw this.failure;
    const task = new ExecTask(chunk, { kind: this.setup.kind, deadLetters: this.setup.deadLetters, idField: this.setup.idField, perRecord: this.setup.perRecord === true });
    if (this.outputGone) for (const unit of task.pendingUnits()) task.skip(unit);
    else if (this.aborted) task.failPending(this.aborted);
    if (task.remaining > 0) {
      this.tasks.add(task);
      this.queue.push({ task, units: task.pendingUnits(), solo: false, answered: 0, bytes: 0, sentAt: 0 });
      this.dispatch();
      try {
        await task.settled;
      } finally {
        this.tasks.delete(task);
      }
    }
    return task.result(options.errorLimit);
  }

  /** No more chunks will come: children get end of input as soon as they have all their work. */
  endInput(): void {
    this.inputEnded = true;
    this.dispatch();
  }

  /**
   * After the last result: each child's input ends and it is waited for, at most
   * --stop-timeout, then killed with a warning. Anything left in their process groups is
   * ended too. A child that exited with a failing status fails the run, as a teardown would.
   */
  async close(): Promise<void> {
    this.inputEnded = true;
    this.dispatch();
    const live = this.slots.map((slot) => slot.child).filter((child): child is ExecChild => child !== undefined);
    if (this.failure || this.aborted) {
      await this.stopAll();
    } else {
      const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), this.options.stopTimeout).unref());
      for (const child of live) child.endInput();
      const late = await Promise.all(live.map((child) => Promise.race([child.ended, timer])));
      live.forEach((child, k) => {
        if (late[k] !== 'late') return;
        process.stderr.write(`${this.setup.command}: ${child.label} did not exit within ${this.options.stopTimeout} ms of the end of its input; killed\n`);
        child.terminate();
      });
      await Promise.all(live.map((child) => child.ended));
      await this.endGroups();
    }
    this.dispose();
    if (this.endFailures.length > 0 && !this.failure && !this.aborted) {
      throw new OpError(`${this.endFailures[0]} after its input ended`, { stage: 'teardown' });
    }
  }

  abort(cause: OpError): Array<{ source: string; line: number }> {
    this.aborted ??= cause;
    const places = this.giveUp(cause);
    void this.stopAll();
    return places;
  }

  /** Every record in flight fails with `cause`; nothing more is sent. */
  private giveUp(cause: OpError): Array<{ source: string; line: number }> {
    this.clearWork();
    const places: Array<{ source: string; line: number }> = [];
    for (const task of this.tasks) places.push(...task.failPending(cause));
    return places;
  }

  /** The output is gone: records in flight will never be written, so they are dropped uncounted and the children stopped. */
  private dropInFlight(): void {
    this.outputGone = true;
    this.aborted ??= new OpError('output closed');
    this.clearWork();
    for (const task of this.tasks) for (const unit of task.pendingUnits()) task.skip(unit);
    void this.stopAll();
  }

  private clearWork(): void {
    this.queue.length = 0;
    this.soloQueue.length = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const slot of this.slots) clearTimeout(slot.spawnTimer);
  }

  /** The run cannot go on (--max-restarts spent): every chunk in flight rejects with `error`. */
  private fail(error: OpError): void {
    if (this.failure) return;
    this.failure = error;
    this.clearWork();
    for (const task of this.tasks) task.reject(error);
    void this.stopAll();
  }

  // ---------------------------------------------------------------- children

  private spawn(slot: Slot): ExecChild {
    const { setup } = this;
    const child = new ExecChild(
      {
        argv: this.options.argv,
        env: childEnv(process.env, { kind: setup.kind, rank: setup.rank, world: setup.world, workerId: slot.id, config: setup.config, sideDir: this.options.side?.dir }),
        label: `exec#${slot.id}`,
        prefix: `[${setup.command} exec#${slot.id}] `,
      },
      {
        data: (from, chunk) => this.onData(from, chunk),
        stdoutClosed: (from) => this.onStdoutClosed(from),
        ended: (from, end) => this.onEnded(from, end),
      },
    );
    if (child.pid !== undefined) this.groups.add(child.pid);
    // --timeout counts from the end of a child's start-up (a Python child may take 100s of ms to import its modules).
    if (!this.starting && this.setup.timeout !== undefined) void child.started(STARTUP_MAX_MS, STARTUP_FALLBACK_MS);
    slot.child = child;
    slot.jobs = [];
    slot.sent = new Map();
    slot.partial = [];
    slot.partialBytes = 0;
    slot.headId = undefined;
    return child;
  }

  private slotOf(child: ExecChild): Slot | undefined {
    return this.slots.find((slot) => slot.child === child);
  }

  private onEnded(child: ExecChild, end: ChildEnd): void {
    const slot = this.slotOf(child);
    if (!slot) return;
    if (this.starting) return;
    if (inFlight(slot) === 0 && child.inputEnded && end.spawnError === undefined) {
      // The usual end: its input ended and it answered everything.
      slot.child = undefined;
      if (end.code !== 0 && !child.ending) this.endFailures.push(`${child.label} (${showArgv(this.options.argv)}) ${describeEnd(end)}`);
      this.dispatch();
      return;
    }
    this.replace(slot, new ChildFailure(`${child.label} ${describeEnd(end)}`, end, child.tail.text()));
  }

  private onStdoutClosed(child: ExecChild): void {
    const slot = this.slotOf(child);
    if (!slot || inFlight(slot) === 0) return;
    // Usually the child is exiting: its exit status says more than the closed pipe.
    setTimeout(() => {
      if (slot.child === child && child.end === undefined) this.replace(slot, new ChildFailure(`${child.label} closed its stdout`, undefined, child.tail.text()));
    }, STDOUT_CLOSED_GRACE_MS);
  }

  /**
   * The child in `slot` failed: it is ended, and the records it had in flight are rerun one
   * at a time; a record it was running alone is the one that broke it, and fails an
   * attempt. The next child starts after the backoff, unless --max-restarts is spent.
   */
  private replace(slot: Slot, cause: ChildFailure): void {
    const child = slot.child!;
    slot.child = undefined;
    child.terminate();
    const units = this.takeInFlight(slot);
    if (this.failure || this.aborted) return;
    const solo = units.length === 1 && units[0]!.solo;
    if (solo) {
      this.failAttempt(units[0]!.task, units[0]!.unit, cause, true);
    } else {
      for (const { task, unit } of units) {
        // Not the record's fault (yet): no attempt is used.
        task.attempts[unit]!--;
        this.soloQueue.push({ task, unit });
      }
    }
    if (!this.budget.take()) {
      const times = this.options.maxRestarts;
      const lines = cause.details.stderr ? cause.details.stderr.split('\n') : [];
      const tail = lines.length > 0 ? '; its last stderr lines:' : '; it wrote nothing to stderr';
      this.fail(new OpError(`${showArgv(this.options.argv)}: more than --max-restarts ${times} replacements within a minute, giving up (the last: ${cause.message})${tail}`, { quote: lines }));
      return;
    }
    process.stderr.write(`${this.setup.command}: ${cause.message}; replacing it\n`);
    slot.notBefore = Date.now() + this.budget.delayMs();
    this.dispatch();
  }

  /** Every unit the slot's child had in flight, oldest first; the slot is emptied. */
  private takeInFlight(slot: Slot): Array<{ task: ExecTask; unit: number; solo: boolean }> {
    const units: Array<{ task: ExecTask; unit: number; solo: boolean }> = [];
    if (this.options.protocol === 'json') {
      for (const { job, unit } of slot.sent.values()) if (job.task.state[unit] === PENDING) units.push({ task: job.task, unit, solo: job.solo });
    } else {
      for (const job of slot.jobs) for (let k = job.answered; k < job.units.length; k++) if (job.task.state[job.units[k]!] === PENDING) units.push({ task: job.task, unit: job.units[k]!, solo: job.solo });
    }
    slot.jobs = [];
    slot.sent = new Map();
    slot.partial = [];
    slot.partialBytes = 0;
    return units;
  }

  /** `error` failed unit u's attempt: it runs again after --retry-delay's backoff, or fails. */
  private failAttempt(task: ExecTask, unit: number, error: Error, solo: boolean): void {
    const attempts = task.attempts[unit]!;
    if (attempts <= this.setup.retries && !this.aborted && !this.failure) {
      task.retries++;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        if (solo) this.soloQueue.push({ task, unit });
        else this.queue.unshift({ task, units: [unit], solo: false, answered: 0, bytes: 0, sentAt: 0 });
        this.dispatch();
      }, backoffMs(this.setup.retryDelay, attempts));
      this.retryTimers.add(timer);
      return;
    }
    task.fail(unit, { cause: error, stage: this.setup.stage ?? this.setup.kind, attempts, thrownAt: (error as ReplyError).at });
  }

  /** Ends every child (TERM, KILL 2 s later) and whatever their groups hold, and waits for them. */
  private async stopAll(): Promise<void> {
    const children = this.slots.map((slot) => slot.child).filter((child): child is ExecChild => child !== undefined);
    for (const child of children) child.terminate();
    await Promise.all(children.map((child) => child.ended));
    await this.endGroups();
  }

  /** What the children left in their process groups (`cmd &`): TERM, then KILL 2 s later. */
  private async endGroups(): Promise<void> {
    const alive = [...this.groups].filter((pgid) => isGroupAlive(pgid));
    for (const pgid of alive) signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + KILL_AFTER_MS;
    let left = alive;
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = left.filter((pgid) => isGroupAlive(pgid));
    }
    for (const pgid of left) signalGroup(pgid, 'SIGKILL');
  }

  private dispose(): void {
    clearInterval(this.watchdog);
    this.clearWork();
    process.off('beforeExit', this.onEmptyLoop);
    // Kept until every group is known to be gone: a second Ctrl-C still ends them.
    this.groups.clear();
    process.off('exit', this.onExit);
  }

  // ---------------------------------------------------------------- sending

  /** Hands queued work to children with room, starts children where work waits, ends input when all is sent. */
  private dispatch(): void {
    if (this.failure || this.aborted) return;
    const now = Date.now();
    const hasWork = this.queue.length > 0 || this.soloQueue.length > 0;
    for (const slot of this.slots) {
      if (slot.child || !hasWork) continue;
      if (now >= slot.notBefore) this.spawn(slot);
      else if (slot.spawnTimer === undefined) {
        slot.spawnTimer = setTimeout(() => {
          slot.spawnTimer = undefined;
          this.dispatch();
        }, slot.notBefore - now);
      }
    }
    for (;;) {
      const slot = this.roomiest();
      if (!slot) break;
      if (this.soloQueue.length > 0) {
        const { task, unit } = this.soloQueue.shift()!;
        if (task.state[unit] === PENDING) this.send(slot, { task, units: [unit], solo: true, answered: 0, bytes: 0, sentAt: 0 });
        continue;
      }
      const job = this.queue.shift();
      if (!job) break;
      job.units = job.units.filter((unit) => job.task.state[unit] === PENDING);
      if (job.units.length > 0) this.send(slot, job);
    }
    if (this.inputEnded && this.queue.length === 0 && this.soloQueue.length === 0 && this.retryTimers.size === 0) {
      for (const slot of this.slots) slot.child?.endInput();
    }
  }

  /** The child with the fewest jobs in flight that can take one more now. */
  private roomiest(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      const child = slot.child;
      if (!child?.inputOpen || child.ending) continue;
      const jobs = slot.jobs.length;
      // A record rerun alone has its child to itself; one waits for an idle child.
      if (jobs > 0 && (slot.jobs[0]!.solo || this.soloQueue.length > 0)) continue;
      if (jobs >= JOBS_PER_CHILD) continue;
      if (!best || jobs < best.jobs.length) best = slot;
    }
    return best;
  }

  private send(slot: Slot, job: Job): void {
    const now = Date.now();
    if (slot.jobs.length === 0) {
      slot.headSince = now;
      slot.lastDone = now;
    }
    job.sentAt = now;
    job.answered = 0;
    const sideVersion = this.options.side?.version() ?? 0;
    for (const unit of job.units) {
      job.task.attempts[unit]!++;
      job.task.sideVersions[unit] = sideVersion;
    }
    let payload: Buffer;
    if (this.options.protocol === 'json') {
      const ids = job.units.map(() => this.nextId++);
      for (let k = 0; k < ids.length; k++) slot.sent.set(ids[k]!, { job, unit: job.units[k]! });
      if (slot.headId === undefined) slot.headId = ids[0];
      payload = jsonPayload(job.task, job.units, ids, this.options.side && sideVersion);
    } else {
      payload = linesPayload(job.task, job.units);
    }
    job.bytes = payload.length;
    slot.jobs.push(job);
    slot.child!.write(payload);
  }

  // ---------------------------------------------------------------- replies

  private onData(child: ExecChild, chunk: Buffer): void {
    const slot = this.slotOf(child);
    if (!slot || child.ending) return;
    if (this.starting) {
      // A banner, or a prompt: nothing was asked yet, so nothing can be its answer.
      this.startProblem ??= `${showArgv(this.options.argv)} wrote to stdout before reading any input: ${excerpt(chunk, 0, chunk.length)}`;
      return;
    }
    let start = 0;
    if (slot.partialBytes > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.hold(slot, chunk);
        return;
      }
      const line = Buffer.concat([...slot.partial, chunk.subarray(0, nl + 1)]);
      slot.partial = [];
      slot.partialBytes = 0;
      if (!this.replyLines(slot, line, 0, line.length)) return;
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start && !this.replyLines(slot, chunk, start, last + 1)) return;
    if (last + 1 < chunk.length) this.hold(slot, chunk.subarray(Math.max(start, last + 1)));
    this.afterReplies(slot);
  }

  private hold(slot: Slot, piece: Buffer): void {
    slot.partial.push(piece);
    slot.partialBytes += piece.length;
    if (slot.partialBytes > MAX_REPLY_BYTES) this.replace(slot, new ChildFailure(`${slot.child!.label} broke the protocol: a reply line longer than ${MAX_REPLY_BYTES} bytes`, undefined, slot.child!.tail.text()));
  }

  /** Whole reply lines b[start, end) (end just after a newline); false when the child was replaced. */
  private replyLines(slot: Slot, b: Buffer, start: number, end: number): boolean {
    const utf8 = isUtf8(b.subarray(start, end));
    const json = this.options.protocol === 'json';
    for (let from = start; from < end; ) {
      const nl = b.indexOf(10, from);
      if (!utf8 && !isUtf8(b.subarray(from, nl))) return this.broken(slot, new ProtocolError('the reply is not UTF-8'));
      const problem = json ? this.jsonReply(slot, b, from, nl) : this.lineReply(slot, b, from, nl);
      if (problem) return this.broken(slot, problem);
      from = nl + 1;
    }
    return true;
  }

  private broken(slot: Slot, problem: ProtocolError): false {
    const child = slot.child!;
    this.replace(slot, new ChildFailure(`${child.label} broke the protocol: ${problem.message}`, undefined, child.tail.text(), 'ProtocolError'));
    return false;
  }

  /** --protocol lines: the reply to the oldest record in flight. */
  private lineReply(slot: Slot, b: Buffer, start: number, nl: number): ProtocolError | undefined {
    const job = slot.jobs[0];
    if (!job) return new ProtocolError('a reply to a line that was never sent');
    const unit = job.units[job.answered]!;
    const end = nl > start && b[nl - 1] === 13 ? nl - 1 : nl;
    if (this.setup.kind === 'map' && isBlank(b, start, end)) job.task.done(unit, b, 0, 0, false, 0);
    else {
      const problem = takeValue(this.setup.kind, job.task, unit, b, start, end, end === nl, false);
      if (problem) return problem;
    }
    if (++job.answered === job.units.length) this.finishJob(slot, job);
    return undefined;
  }

  /** --protocol json: a reply to any record in flight, by its id. */
  private jsonReply(slot: Slot, b: Buffer, start: number, nl: number): ProtocolError | undefined {
    if (isBlank(b, start, nl)) return undefined;
    const reply = readJsonReply(b, start, nl);
    if (reply instanceof ProtocolError) return reply;
    const sent = slot.sent.get(reply.id);
    if (!sent) return new ProtocolError(`a reply to id ${reply.id}, which is not in flight`);
    slot.sent.delete(reply.id);
    const { job, unit } = sent;
    if ('error' in reply) this.failAttempt(job.task, unit, reply.error, job.solo);
    else if ('start' in reply) {
      const problem = takeValue(this.setup.kind, job.task, unit, b, reply.start, reply.end, false, true);
      if (problem) return problem;
    } else takeParsed(this.setup.kind, job.task, unit, reply.value);
    if (++job.answered === job.units.length) this.finishJob(slot, job);
    return undefined;
  }

  private finishJob(slot: Slot, job: Job): void {
    const at = slot.jobs.indexOf(job);
    if (at >= 0) slot.jobs.splice(at, 1);
    const now = Date.now();
    if (!job.solo) this.sizer.record(job.bytes, now - Math.max(job.sentAt, slot.lastDone));
    slot.lastDone = now;
  }

  /** Replies came: the oldest record in flight may have changed, and children have room. */
  private afterReplies(slot: Slot): void {
    if (this.options.protocol === 'json') {
      const head = slot.sent.keys().next().value as number | undefined;
      if (head !== slot.headId) {
        slot.headId = head;
        slot.headSince = Date.now();
      }
    } else {
      slot.headSince = Date.now();
    }
    this.dispatch();
  }

  // ---------------------------------------------------------------- timeouts

  /**
   * A child whose oldest record in flight has had no reply for --timeout ms since it became
   * the oldest: that record fails an attempt, the child is ended (TERM, KILL 2 s later) and
   * replaced at once, and its other records go to the queue's front without using an attempt.
   */
  private checkTimeouts(timeout: number): void {
    const now = Date.now();
    for (const slot of this.slots) {
      const child = slot.child;
      if (!child?.startedAt || slot.jobs.length === 0 || now - Math.max(slot.headSince, child.startedAt) <= timeout) continue;
      slot.child = undefined;
      child.terminate();
      const units = this.takeInFlight(slot);
      const head = units.shift();
      if (!head) continue;
      for (let k = units.length - 1; k >= 0; k--) {
        const { task, unit } = units[k]!;
        task.attempts[unit]!--;
        this.queue.unshift({ task, units: [unit], solo: false, answered: 0, bytes: 0, sentAt: 0 });
      }
      this.failAttempt(head.task, head.unit, new TimeoutError(timeout), head.solo);
    }
    this.dispatch();
  }
}

/** The units a slot has in flight. */
function inFlight(slot: Slot): number {
  let n = 0;
  for (const job of slot.jobs) n += job.units.length - job.answered;
  return n;
}

function isBlank(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0x20 && b[i] !== 0x09 && b[i] !== 0x0d) return false;
  return true;
}

/** A child that ended, closed its stdout or broke the protocol: the failure of the record it ran alone. */
class ChildFailure extends Error {
  readonly details: { exit: number | null; signal: string | null; stderr: string };

  constructor(message: string, end: ChildEnd | undefined, stderr: string, name = 'ExecError') {
    super(message);
    this.name = name;
    this.details = { exit: end?.code ?? null, signal: end?.signal ?? null, stderr };
  }
}

function describeEnd(end: ChildEnd): string {
  if (end.spawnError) return `could not be started: ${end.spawnError.code ?? end.spawnError.message}`;
  if (end.signal) return `was killed by ${end.signal}`;
  return `exited with status ${end.code}`;
}

/** Why the command could not start, in the user's words. */
function startFailure(argv: string[], end: ChildEnd): string {
  const code = end.spawnError?.code;
  if (code === 'ENOENT') return `cannot run ${argv[0]}: not found${argv[0]!.includes('/') ? '' : ' on PATH'}`;
  if (code === 'EACCES') return `cannot run ${argv[0]}: permission denied (is it executable?)`;
  if (end.spawnError) return `cannot run ${argv[0]}: ${code ?? end.spawnError.message}`;
  return `${showArgv(argv)} ${describeEnd(end)} before reading any input`;
}

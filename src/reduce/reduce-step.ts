import { OpError, RecordError, TimeoutError, UsageError, causeParts, describeCause, type Stage } from '../core/errors.js';
import { waitBeforeRetry } from '../core/backoff.js';
import type { DeadLetter } from '../records/record-runner.js';
import { MinHeap } from '../core/min-heap.js';
import type { Aggregator, StepContext } from './aggregator.js';
import { readEventTime } from './event-time.js';
import { fieldReader, type FieldReader } from './field-path.js';
import { GroupKey } from './group-key.js';
import { collectGarbage } from './collect-garbage.js';
import { SpillStore } from './spill-store.js';
import type { WindowSpec } from './window-spec.js';
import { isThenable } from '../records/call-handler.js';

/** What `--late` does with a record whose window has closed. */
export type LatePolicy = 'dead-letter' | 'drop' | 'reopen';

export interface ReduceStepOptions {
  /** `--key`: field paths whose values make a group's key. */
  key: string[];
  aggregator: Aggregator;
  window: WindowSpec | undefined;
  /** `--time FIELD`; undefined: arrival time. */
  time: string | undefined;
  lateness: number;
  late: LatePolicy;
  /** Estimated bytes of held state past which groups spill (or the run stops). */
  maxMemory: number;
  /** How --max-memory was written, for messages. */
  maxMemoryText?: string | undefined;
  spillDir: string;
  retries: number;
  retryDelay: number;
  timeout: number | undefined;
  config: unknown;
  signal: AbortSignal;
  idField: string | undefined;
  /** Without it, the first failed record is thrown as a RecordError. */
  deadLetter: ((entry: DeadLetter) => void) | undefined;
  maxErrors: number | undefined;
  log: (line: string) => void;
}

/** Where a record came from: its source, 1-based line and 0-based index among all records. */
export interface RecordPlace {
  source: string;
  line: number;
  index: number;
}

export interface ReduceStats {
  in: number;
  /** Groups written. */
  out: number;
  /** Late records dropped by --late drop. */
  dropped: number;
  /** Records behind the watermark, whatever became of them. */
  late: number;
  errors: number;
  retries: number;
  spills: number;
}

/**
 * One group of one window. `ord` is the index of its first record (the order keys first
 * appeared); `bytes` its last size estimate, refreshed at 1, 2, 4, 8… steps so growing
 * state is measured at amortised O(1) per record.
 */
interface Group {
  ord: number;
  state: unknown;
  bytes: number;
  steps: number;
  /** count windows: the index of the last record. sessions: first and last event time + gap. */
  a: number;
  b: number;
  closed: boolean;
}

/** A group about to be written, with its window. */
interface Closing {
  keyText: string;
  group: Group;
  start: number | undefined;
  end: number | undefined;
}

/**
 * What one group costs in resident memory beyond its key and state: the Map entry, the group
 * object, the state array, the key string's header, and the garbage collector's headroom
 * over them. Live heap is ~230 bytes a group; with 400, 5,000,000 keys under --max-memory
 * 200MB peaked at 273 MiB of RSS while reading, where 160 reached 820 MB; 440 leaves a
 * margin for a busier machine (bench/RESULTS.md).
 */
const GROUP_BYTES = 440;
/** Output is handed on in pieces of about this many characters. */
const PIECE_CHARS = 1 << 20;

class LateRecord extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LateRecord';
  }
}

/**
 * The reduce step: records in with `push`, closed groups out as NDJSON text from `tick`
 * (windows the watermark has passed) and `end` (everything left, spills merged). It owns
 * no I/O but its spill files, so any driver (a line reader, the engine trunk, a worker)
 * can run it. `push` returns a promise only when a handler step is asynchronous.
 */
export class ReduceStep {
  readonly stats: ReduceStats = { in: 0, out: 0, dropped: 0, late: 0, errors: 0, retries: 0, spills: 0 };
  /** Estimated bytes of all open groups. */
  stateBytes = 0;
  private readonly key: GroupKey;
  private readonly agg: Aggregator;
  private readonly time: FieldReader | undefined;
  /** Highest event (or arrival) time seen. */
  private maxTime = -Infinity;
  /** No window, and count windows: one map of groups. */
  private readonly groups = new Map<string, Group>();
  /** Tumbling and sliding windows by start time. */
  private readonly windows = new Map<number, Map<string, Group>>();
  /** Session windows: each key's open sessions, and their ends in a heap (entries go stale as sessions grow). */
  private readonly sessions = new Map<string, Group[]>();
  private readonly sessionEnds = new MinHeap<{ end: number; keyText: string; group: Group }>((x, y) => x.end < y.end);
  private pending = '';
  /** The earliest end among open time windows: once the watermark reaches it, push closes windows at once. */
  private nextClose = Infinity;
  private store: SpillStore | undefined;
  private readonly ctx: StepContext;

  constructor(private readonly options: ReduceStepOptions) {
    this.key = new GroupKey(options.key);
    this.agg = options.aggregator;
    this.time = options.time === undefined ? undefined : fieldReader(options.time);
    const log = options.log;
    this.ctx = { index: 0, line: 0, source: '', attempt: 1, config: options.config, signal: options.signal, log: (...args: unknown[]) => log(args.map(String).join(' ')) };
  }

  /** The watermark: the highest time seen minus --lateness. A window closes once it reaches the window's end. */
  get watermark(): number {
    return this.maxTime - this.options.lateness;
  }

  /** Adds one parsed record. `now` is its arrival time, used when there is no --time. */
  push(record: unknown, place: RecordPlace, now = Date.now()): void | Promise<void> {
    this.stats.in++;
    let t = now;
    if (this.time) {
      const value = this.time(record);
      const ms = readEventTime(value);
      if (ms === undefined) return this.fail(record, place, 'time', new TypeError(`--time ${this.options.time}: ${value === undefined ? 'missing' : JSON.stringify(value)} is not a time (epoch seconds, epoch ms or ISO-8601)`), 0);
      t = ms;
    }
    const keyText = this.key.textOf(record);
    const done = this.place(record, place, keyText, t);
    if (t > this.maxTime) this.maxTime = t;
    if (done) return done.then(() => this.closeDue());
    this.closeDue();
    return undefined;
  }

  /**
   * Closes every window the watermark has passed and returns their groups' lines, ordered
   * by window end, then by the order their keys first appeared; plus count windows filled
   * since the last call. With arrival time, `now` moves the watermark.
   */
  tick(now = Date.now()): string {
    if (!this.time && now > this.maxTime) this.maxTime = now;
    let out = this.pending;
    this.pending = '';
    const closing = this.closeUntil(this.watermark);
    if (closing.length) out += this.renderAll(closing);
    return out;
  }

  /** With arrival time: when the next window closes (ms since the epoch), for a driver's timer. */
  deadline(): number | undefined {
    if (this.time || this.nextClose === Infinity) return undefined;
    return this.nextClose + this.options.lateness;
  }

  /** The earliest end of an open time window (a stale session entry may make it early, which costs one empty tick). */
  private earliestEnd(): number {
    const window = this.options.window;
    if (window === undefined || window.type === 'count') return Infinity;
    if (window.type === 'session') return this.sessionEnds.peek()?.end ?? Infinity;
    let end = Infinity;
    for (const start of this.windows.keys()) end = Math.min(end, start + window.size);
    return end;
  }

  /** Every group still open, in the documented order; spilled partial states merged first. */
  async *end(): AsyncGenerator<string> {
    if (this.pending) yield this.tick(this.maxTime);
    if (this.store) {
      this.spill();
      const store = this.store;
      for await (const piece of store.merge(this.agg, (keyText, state) => this.render(keyText, state, undefined, undefined))) {
        this.stats.out += countLines(piece);
        yield piece;
      }
      return;
    }
    const closing = this.closeUntil(Infinity);
    let out = '';
    for (const item of closing) {
      out += this.renderOne(item);
      if (out.length >= PIECE_CHARS) {
        yield out;
        out = '';
      }
    }
    if (out) yield out;
  }

  /** A record that failed before it reached the step (read, decode, parse): counted in, then failed. */
  reject(input: unknown, place: RecordPlace, stage: Stage, cause: unknown): void {
    this.stats.in++;
    this.fail(input, place, stage, cause, 0, typeof input === 'string' ? input : undefined);
  }

  /** Removes spill files; call once the run is over, however it ended. */
  dispose(): void {
    this.store?.remove();
    this.store = undefined;
  }

  private place(record: unknown, place: RecordPlace, keyText: string, t: number): void | Promise<void> {
    const window = this.options.window;
    if (window === undefined) return this.add(this.groups, keyText, record, place);
    switch (window.type) {
      case 'count':
        return then(this.add(this.groups, keyText, record, place), () => this.countClose(keyText, place, window.size));
      case 'tumbling': {
        const start = Math.floor(t / window.size) * window.size;
        if (start + window.size <= this.watermark && this.isLate(record, place, t)) return undefined;
        return this.add(this.windowGroups(start), keyText, record, place);
      }
      case 'sliding': {
        // Every window holding t: starts at multiples of STEP in (t - DURATION, t]. The record
        // is late only when all of them have closed; otherwise it joins those still open.
        const all: number[] = [];
        for (let start = Math.floor(t / window.step) * window.step; start + window.size > t; start -= window.step) all.unshift(start);
        const wm = this.watermark;
        const open = all.filter((start) => start + window.size > wm);
        if (open.length > 0) return this.addEach(open, keyText, record, place);
        return this.isLate(record, place, t) ? undefined : this.addEach(all, keyText, record, place);
      }
      case 'session':
        if (t + window.gap <= this.watermark && this.isLate(record, place, t)) return undefined;
        return this.addToSession(keyText, record, place, t, window.gap);
    }
  }

  /**
   * Closes the windows the watermark has reached, as soon as it reaches them, so a late
   * record meets a closed window even within one read (and `--late reopen` opens a new one).
   */
  private closeDue(): void {
    if (this.watermark < this.nextClose) return;
    this.pending += this.renderAll(this.closeUntil(this.watermark));
  }

  /** Counts a late record; true when it is not to be added (dead-lettered or dropped). */
  private isLate(record: unknown, place: RecordPlace, t: number): boolean {
    this.stats.late++;
    const policy = this.options.late;
    if (policy === 'reopen') return false;
    if (policy === 'drop') {
      this.stats.dropped++;
      return true;
    }
    const message = `event time ${iso(t)} is behind the watermark ${iso(this.watermark)}`;
    this.fail(record, place, 'late', new LateRecord(this.options.deadLetter ? message : `${message}; keep late records with --errors FILE, or use --late drop or --late reopen`), 0);
    return true;
  }

  private addEach(starts: number[], keyText: string, record: unknown, place: RecordPlace): void | Promise<void> {
    for (let k = 0; k < starts.length; k++) {
      const done = this.add(this.windowGroups(starts[k]!), keyText, record, place);
      if (done) return done.then(() => this.addEach(starts.slice(k + 1), keyText, record, place));
    }
    return undefined;
  }

  private windowGroups(start: number): Map<string, Group> {
    let groups = this.windows.get(start);
    if (!groups) {
      groups = new Map();
      this.windows.set(start, groups);
      this.nextClose = Math.min(this.nextClose, start + (this.options.window as { size: number }).size);
    }
    return groups;
  }

  private countClose(keyText: string, place: RecordPlace, size: number): void {
    const group = this.groups.get(keyText);
    if (!group) return;
    group.a = place.index;
    if (group.steps < size) return;
    this.groups.delete(keyText);
    this.stateBytes -= group.bytes;
    this.pending += this.renderOne({ keyText, group, start: group.ord, end: place.index + 1 });
  }

  private addToSession(keyText: string, record: unknown, place: RecordPlace, t: number, gap: number): void | Promise<void> {
    let list = this.sessions.get(keyText);
    // The sessions this record touches: its own span [t, t+gap) overlaps theirs [a, b).
    const touching = list?.filter((s) => t < s.b && t + gap > s.a) ?? [];
    const target = touching[0];
    if (touching.length > 1) {
      if (!this.agg.mergeable) throw new UsageError('a record joins two open sessions of one key, and their states cannot be combined without --merge');
      for (const other of touching.slice(1)) {
        target!.state = this.agg.merge(target!.state, other.state);
        target!.a = Math.min(target!.a, other.a);
        target!.b = Math.max(target!.b, other.b);
        target!.ord = Math.min(target!.ord, other.ord);
        target!.steps += other.steps;
        this.stateBytes -= other.bytes;
        other.closed = true;
      }
      list = list!.filter((s) => !s.closed);
      this.sessions.set(keyText, list);
    }
    const finish = (group: Group): void => {
      group.a = Math.min(group.a, t);
      group.b = Math.max(group.b, t + gap);
      this.sessionEnds.push({ end: group.b, keyText, group });
      this.nextClose = Math.min(this.nextClose, group.b);
    };
    if (target) return then(this.stepGroup(target, keyText, record, place), () => finish(target!));
    return then(this.newGroup(keyText, record, place), (group) => {
      if (!group) return;
      group.a = t;
      group.b = t + gap;
      const open = this.sessions.get(keyText);
      if (open) open.push(group);
      else this.sessions.set(keyText, [group]);
      this.sessionEnds.push({ end: group.b, keyText, group });
    });
  }

  /** The record into its key's group of `groups`, made when new. */
  private add(groups: Map<string, Group>, keyText: string, record: unknown, place: RecordPlace): void | Promise<void> {
    const group = groups.get(keyText);
    if (group) {
      const done = this.stepGroup(group, keyText, record, place);
      return done === true || done === false ? undefined : done.then(() => undefined);
    }
    return then(this.newGroup(keyText, record, place), (made) => {
      if (made) groups.set(keyText, made);
    });
  }

  /** A group from its first record; undefined when that record failed (a group never holds nothing). */
  private newGroup(keyText: string, record: unknown, place: RecordPlace): Group | undefined | Promise<Group | undefined> {
    const ctx = this.contextFor(place, 1);
    const group: Group = { ord: place.index, state: undefined, bytes: 0, steps: 0, a: 0, b: 0, closed: false };
    let state: unknown;
    try {
      state = this.agg.init(() => this.key.objectOf(keyText), ctx);
    } catch (error) {
      return this.fail(record, place, 'init', error, 1);
    }
    group.state = state;
    return then(this.stepGroup(group, keyText, record, place), (ok) => (ok ? group : undefined));
  }

  /** Runs one step; true when it succeeded. Sizes the group and keeps state under --max-memory. */
  private stepGroup(group: Group, keyText: string, record: unknown, place: RecordPlace): boolean | Promise<boolean> {
    const updated = (state: unknown): boolean => {
      group.state = state;
      const steps = ++group.steps;
      if ((steps & (steps - 1)) === 0) {
        const bytes = GROUP_BYTES + keyText.length + this.agg.sizeOf(state);
        this.stateBytes += bytes - group.bytes;
        group.bytes = bytes;
        if (this.stateBytes > this.options.maxMemory) this.relieveMemory();
      }
      return true;
    };
    if (this.agg.sync) {
      this.ctx.index = place.index;
      let state: unknown;
      try {
        state = this.agg.step(group.state, record, this.ctx);
      } catch (error) {
        this.fail(record, place, 'reduce', error, 1);
        return false;
      }
      return updated(state);
    }
    return this.stepHandler(group, record, place, 1).then((result) => (result.ok ? updated(result.state) : false));
  }

  /** A handler step, with --timeout and --retries. The accumulator is passed again unchanged on a retry. */
  private async stepHandler(group: Group, record: unknown, place: RecordPlace, attempt: number): Promise<{ ok: boolean; state?: unknown }> {
    const ctx = this.contextFor(place, attempt);
    try {
      const result = this.agg.step(group.state, record, ctx);
      return { ok: true, state: isThenable(result) ? await this.withTimeout(result) : result };
    } catch (error) {
      // The run's own failures pass through; a handler's (a timeout included) is retried.
      if (error instanceof OpError && !(error instanceof TimeoutError)) throw error;
      if (attempt > this.options.retries || this.options.signal.aborted) {
        this.fail(record, place, 'reduce', error, attempt);
        return { ok: false };
      }
      await waitBeforeRetry(this.options.retryDelay, attempt, this.options.signal);
      this.stats.retries++;
      return this.stepHandler(group, record, place, attempt + 1);
    }
  }

  private withTimeout(result: PromiseLike<unknown>): Promise<unknown> {
    const ms = this.options.timeout;
    if (ms === undefined) return Promise.resolve(result);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
      result.then(
        (value) => (clearTimeout(timer), resolve(value)),
        (error: unknown) => (clearTimeout(timer), reject(error)),
      );
    });
  }

  private contextFor(place: RecordPlace, attempt: number): StepContext {
    return { ...this.ctx, index: place.index, line: place.line, source: place.source, attempt };
  }

  /** Past --max-memory: spill when groups can merge and no window holds them, else stop. */
  private relieveMemory(): void {
    const limit = `--max-memory ${this.options.maxMemoryText ?? this.options.maxMemory}`;
    if (!this.agg.mergeable) {
      throw new OpError(`group state passed ${limit}; give --merge '(a, b) => …' so partial results can spill to disk, or raise --max-memory`);
    }
    if (this.options.window) {
      throw new OpError(`open windows hold more than ${limit} of state; only reduce without --window spills to disk: raise --max-memory or use shorter windows`);
    }
    this.spill();
  }

  private spill(): void {
    let store = this.store;
    if (!store) this.store = store = new SpillStore(this.options.spillDir, this.options.maxMemory / 4);
    for (const [keyText, group] of this.groups) store.add(keyText, group.ord, this.agg.freeze(group.state));
    store.flush();
    this.groups.clear();
    this.stateBytes = 0;
    this.stats.spills++;
    collectGarbage();
  }

  /** Takes the groups of every window ending at or before `until`, in output order. */
  private closeUntil(until: number): Closing[] {
    const window = this.options.window;
    const closing: Closing[] = [];
    if (window === undefined || window.type === 'count') {
      if (until !== Infinity) return closing;
      for (const [keyText, group] of this.groups) closing.push({ keyText, group, start: window && group.ord, end: window && group.a + 1 });
      this.groups.clear();
    } else if (window.type === 'session') {
      const ends = this.sessionEnds;
      for (let top = ends.peek(); top !== undefined && top.end <= until; top = ends.peek()) {
        ends.pop();
        const { group, keyText } = top;
        if (group.closed || group.b !== top.end) continue;
        group.closed = true;
        closing.push({ keyText, group, start: group.a, end: group.b });
        const open = this.sessions.get(keyText)!.filter((s) => s !== group);
        if (open.length) this.sessions.set(keyText, open);
        else this.sessions.delete(keyText);
      }
      closing.sort((x, y) => x.end! - y.end! || x.group.ord - y.group.ord);
    } else {
      const starts = [...this.windows.keys()].filter((start) => start + window.size <= until).sort((x, y) => x - y);
      for (const start of starts) {
        for (const [keyText, group] of this.windows.get(start)!) closing.push({ keyText, group, start, end: start + window.size });
        this.windows.delete(start);
      }
    }
    for (const item of closing) this.stateBytes -= item.group.bytes;
    this.nextClose = this.earliestEnd();
    return closing;
  }

  private renderAll(closing: Closing[]): string {
    let out = '';
    for (const item of closing) out += this.renderOne(item);
    return out;
  }

  private renderOne({ keyText, group, start, end }: Closing): string {
    this.stats.out++;
    return this.render(keyText, group.state, start, end);
  }

  private render(keyText: string, state: unknown, start: number | undefined, end: number | undefined): string {
    let fields: string;
    try {
      const out = this.agg.output(state, this.agg.wantsKey ? this.key.objectOf(keyText) : {});
      if (isThenable(out.value)) throw new TypeError('--final returned a promise; it must be synchronous');
      fields = JSON.stringify(out);
    } catch (error) {
      throw new OpError(`cannot write the group ${this.key.jsonOf(keyText)}: ${describeCause(error)}`, { cause: error });
    }
    const window = start === undefined ? '' : `,"window":{"start":${start},"end":${end}}`;
    return `{"key":${this.key.jsonOf(keyText)}${window}${fields.length > 2 ? ',' + fields.slice(1) : '}'}\n`;
  }

  /** A failed record: a dead letter with --errors, else the error that stops the run. */
  private fail(record: unknown, place: RecordPlace, stage: Stage, cause: unknown, attempts: number, excerpt = safeJson(record)): undefined {
    const deadLetter = this.options.deadLetter;
    if (!deadLetter) throw new RecordError(cause, { place: { source: place.source, line: place.line }, stage, attempts, excerpt });
    this.stats.errors++;
    deadLetter({ source: place.source, line: place.line, id: this.idOf(record, place.line), input: record, error: causeParts(cause), attempts, stage });
    const max = this.options.maxErrors;
    if (max !== undefined && this.stats.errors >= max) {
      throw new OpError(`stopped after ${this.stats.errors} failed records (--max-errors ${max})`, { place: { source: place.source, line: place.line } });
    }
    return undefined;
  }

  private idOf(record: unknown, line: number): unknown {
    const field = this.options.idField;
    if (field === undefined || record === null || typeof record !== 'object') return line;
    return (record as Record<string, unknown>)[field] ?? line;
  }
}

/** `f(value)` now when `value` is plain, after it when it is a promise: the sync path allocates no promise. */
function then<T, U>(value: T | Promise<T>, f: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

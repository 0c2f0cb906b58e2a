import { isUtf8 } from 'node:buffer';
import { InputError, RecordError, causeParts, toErrorData, type Kind, type Stage } from '../core/errors.js';
import { firstInvalidByte } from '../io/decode-lines.js';
import { isBlankBytes } from '../io/is-blank-line.js';
import type { Chunk, ChunkResult } from '../records/chunk.js';
import { emptyResult } from '../records/failed-records.js';
import { maxErrorsReached, type DeadLetter } from '../records/record-runner.js';

/** Where a unit stands. */
export const PENDING = 0;
export const DONE = 1;
export const FAILED = 2;
/** Journaled already (--journal): not run, not counted. */
export const SKIPPED = 3;

/** Why a unit failed, as the dead letter and the stop message tell it. */
export interface UnitFailure {
  cause: unknown;
  stage: Stage;
  attempts: number;
  /** Where in the child's code it was raised (`score.py:12 in handle`), for the stop message. */
  thrownAt?: string | undefined;
}

/** What builds the result of a task: the run's settings that shape it. */
export interface TaskSetup {
  kind: Kind;
  deadLetters: boolean;
  idField: string | undefined;
  perRecord: boolean;
}

const NEWLINE = Buffer.from('\n');

/**
 * One chunk on its way through child processes: its records (byte ranges of the chunk,
 * line endings and blank lines left out), its units (a record, or under op batch a batch),
 * and each unit's outcome. Outcomes arrive in any order; `result()` puts them in input order.
 */
export class ExecTask {
  /** Content of record r: chunk.bytes[recStart[r], recEnd[r]), without its line ending. */
  readonly recStart: Int32Array;
  readonly recEnd: Int32Array;
  readonly recLine: Int32Array;
  /** Unit u holds records unitFrom[u] .. unitTo[u]-1. */
  readonly unitFrom: Int32Array;
  readonly unitTo: Int32Array;
  readonly units: number;
  readonly state: Uint8Array;
  readonly attempts: Uint16Array;
  /** With --side: the side version sent with each unit's last attempt (0: none), for the journal. */
  readonly sideVersions: Int32Array;
  /** A unit's output bytes: out[u][outStart[u], outEnd[u]), then a newline when outNl[u]. */
  readonly out: Array<Uint8Array | undefined>;
  readonly outStart: Int32Array;
  readonly outEnd: Int32Array;
  readonly outNl: Uint8Array;
  /** Output records of a unit (map and filter: 0 or 1). */
  readonly outRecords: Int32Array;
  readonly failures = new Map<number, UnitFailure>();
  retries = 0;
  /** Units not yet DONE, FAILED or SKIPPED. */
  remaining: number;
  readonly settled: Promise<void>;
  private settle: () => void = () => {};
  private rejectSettled: (error: unknown) => void = () => {};

  constructor(
    readonly chunk: Chunk,
    private readonly setup: TaskSetup,
  ) {
    this.settled = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.rejectSettled = reject;
    });
    const buf = chunk.bytes;
    const valid = isUtf8(buf);
    const starts: number[] = [];
    const ends: number[] = [];
    const lines: number[] = [];
    const bad: number[] = [];
    let line = chunk.firstLine;
    for (let start = 0; start < buf.length; line++) {
      let nl = buf.indexOf(10, start);
      if (nl < 0) nl = buf.length;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (!isBlankBytes(buf, start, end)) {
        if (!valid && !isUtf8(buf.subarray(start, end))) bad.push(starts.length);
        starts.push(start);
        ends.push(end);
        lines.push(line);
      }
      start = nl + 1;
    }
    this.recStart = Int32Array.from(starts);
    this.recEnd = Int32Array.from(ends);
    this.recLine = Int32Array.from(lines);
    // Units: one per record, or the batches the reader cut; a record that is not UTF-8 is a
    // unit of its own that fails at once (as the inline path dead-letters it before the batch).
    const from: number[] = [];
    const to: number[] = [];
    const badSet = new Set(bad);
    const sizes = chunk.batches ?? [];
    let r = 0;
    let batch = 0;
    while (r < starts.length) {
      const size = chunk.batches ? (sizes[batch++] ?? starts.length - r) : 1;
      const stop = Math.min(starts.length, r + size);
      let open = -1;
      for (; r < stop; r++) {
        if (badSet.has(r)) {
          open = -1;
          from.push(r);
          to.push(r + 1);
          continue;
        }
        if (open < 0 || !chunk.batches) {
          open = from.length;
          from.push(r);
          to.push(r + 1);
        } else {
          to[open] = r + 1;
        }
      }
    }
    this.unitFrom = Int32Array.from(from);
    this.unitTo = Int32Array.from(to);
    this.units = from.length;
    this.state = new Uint8Array(this.units);
    this.attempts = new Uint16Array(this.units);
    this.sideVersions = new Int32Array(this.units);
    this.out = new Array(this.units);
    this.outStart = new Int32Array(this.units);
    this.outEnd = new Int32Array(this.units);
    this.outNl = new Uint8Array(this.units);
    this.outRecords = new Int32Array(this.units);
    this.remaining = this.units;
    const skip = chunk.skip?.length ? new Set(chunk.skip) : undefined;
    for (let u = 0; u < this.units; u++) {
      if (skip && this.linesOf(u).every((at) => skip.has(at))) this.mark(u, SKIPPED);
      else if (badSet.has(this.unitFrom[u]!)) {
        const text = buf.subarray(this.recStart[this.unitFrom[u]!], this.recEnd[this.unitFrom[u]!]) as Buffer;
        this.fail(u, { cause: new InputError(`invalid UTF-8 at byte ${firstInvalidByte(text)}`, 'decode'), stage: 'decode', attempts: 0 });
      }
    }
  }

  /** Units the children still have to run, in order. */
  pendingUnits(): number[] {
    const units: number[] = [];
    for (let u = 0; u < this.units; u++) if (this.state[u] === PENDING) units.push(u);
    return units;
  }

  /** The unit's output, as a range of `bytes` (followed by a newline when `newline`). */
  done(u: number, bytes: Uint8Array, start: number, end: number, newline: boolean, records: number): void {
    if (this.state[u] !== PENDING) return;
    this.out[u] = bytes;
    this.outStart[u] = start;
    this.outEnd[u] = end;
    this.outNl[u] = newline ? 1 : 0;
    this.outRecords[u] = records;
    this.mark(u, DONE);
  }

  fail(u: number, failure: UnitFailure): void {
    if (this.state[u] !== PENDING) return;
    this.failures.set(u, failure);
    this.mark(u, FAILED);
  }

  /** Unit u will never be run nor written (the output is gone): it is left out, uncounted. */
  skip(u: number): void {
    if (this.state[u] === PENDING) this.mark(u, SKIPPED);
  }

  /** Every unit still pending fails with `cause` (a stop gave up on them); their places. */
  failPending(cause: unknown): Array<{ source: string; line: number }> {
    const places: Array<{ source: string; line: number }> = [];
    for (let u = 0; u < this.units; u++) {
      if (this.state[u] !== PENDING) continue;
      places.push({ source: this.chunk.source, line: this.recLine[this.unitFrom[u]!]! });
      this.fail(u, { cause, stage: this.setup.kind, attempts: Math.max(1, this.attempts[u]!) });
    }
    return places;
  }

  /** The executor itself failed: the chunk's result rejects with `error`. */
  reject(error: unknown): void {
    this.remaining = 0;
    this.rejectSettled(error);
  }

  /** The line of unit u's first record (a batch's place). */
  firstLine(u: number): number {
    return this.recLine[this.unitFrom[u]!]!;
  }

  /** Record r's line as read, without its line ending. */
  text(r: number): string {
    return this.chunk.bytes.toString('utf8', this.recStart[r], this.recEnd[r]);
  }

  /** The chunk's result: outputs in input order, a dead letter at each failure, or the failure that stops the run. */
  result(errorLimit: { max: number; before: number } | undefined): ChunkResult {
    const { setup } = this;
    const result = emptyResult();
    const stats = result.stats;
    stats.retries = this.retries;
    if (setup.perRecord) result.outLines = [];
    const pieces: Array<[Uint8Array, number, number, number]> = [];
    let pieceBytes = 0;
    const flush = (): void => {
      if (pieces.length === 0) return;
      result.out.push(joinRanges(pieces, pieceBytes));
      pieces.length = 0;
      pieceBytes = 0;
    };
    let errors = 0;
    for (let u = 0; u < this.units; u++) {
      const state = this.state[u];
      if (state === SKIPPED) continue;
      const records = this.unitTo[u]! - this.unitFrom[u]!;
      const lastLine = this.recLine[this.unitTo[u]! - 1]!;
      stats.in += records;
      if (state === DONE) {
        const n = this.outRecords[u]!;
        if (n === 0) stats.dropped += setup.kind === 'batch' ? records : 1;
        stats.out += n;
        const bytes = n === 0 ? 0 : this.outEnd[u]! - this.outStart[u]! + this.outNl[u]!;
        if (bytes > 0) {
          const last = pieces[pieces.length - 1];
          // Replies that follow each other in one read of the child's stdout are copied as one range.
          if (last && last[0] === this.out[u] && last[2] === this.outStart[u] && last[3] === 0) {
            last[2] = this.outEnd[u]!;
            last[3] = this.outNl[u]!;
          } else pieces.push([this.out[u]!, this.outStart[u]!, this.outEnd[u]!, this.outNl[u]!]);
          pieceBytes += bytes;
        }
        if (setup.perRecord) {
          flush();
          if (bytes === 0) result.out.push('');
          result.outLines!.push(lastLine);
          if (this.sideVersions[u]! > 0) {
            result.sideAt ??= [];
            result.sideAt.push(lastLine, this.sideVersions[u]!);
          }
        }
        continue;
      }
      const failure = this.failures.get(u)!;
      stats.errors += records;
      errors += records;
      const place = { source: this.chunk.source, line: this.firstLine(u) };
      if (!setup.deadLetters) {
        flush();
        const excerpt = this.text(this.unitFrom[u]!);
        const batch = records > 1 ? `batch of ${records} records: ` : '';
        const cause = batch ? Object.assign(new Error(batch + describe(failure.cause)), { name: causeParts(failure.cause).name }) : failure.cause;
        const data = toErrorData(new RecordError(cause, { place, stage: failure.stage, attempts: failure.attempts, excerpt }));
        result.failure = failure.thrownAt === undefined ? data : { ...data, thrownAt: failure.thrownAt };
        return result;
      }
      flush();
      for (let r = this.unitFrom[u]!; r < this.unitTo[u]!; r++) {
        result.deadLetters.push(this.deadLetter(r, failure));
        result.deadLetterAt.push(result.out.length);
      }
      if (errorLimit !== undefined && errorLimit.before + errors >= errorLimit.max) {
        result.failure = toErrorData(maxErrorsReached(errorLimit.before + errors, errorLimit.max, place));
        return result;
      }
    }
    flush();
    return result;
  }

  private deadLetter(r: number, failure: UnitFailure): DeadLetter {
    const text = this.text(r);
    const line = this.recLine[r]!;
    const parsed = failure.stage !== 'read' && failure.stage !== 'decode';
    const input = parsed ? parsedOrText(text) : text;
    return { source: this.chunk.source, line, id: parsed ? idOf(input, line, this.setup.idField) : line, input, error: { ...causeParts(failure.cause), ...detailsOf(failure.cause) }, attempts: failure.attempts, stage: failure.stage };
  }

  private linesOf(u: number): number[] {
    return Array.from(this.recLine.subarray(this.unitFrom[u]!, this.unitTo[u]!));
  }

  private mark(u: number, state: number): void {
    this.state[u] = state;
    if (--this.remaining === 0) this.settle();
  }
}

/** The ranges (each followed by a newline when its flag is set) copied into one buffer of their own. */
function joinRanges(pieces: Array<[Uint8Array, number, number, number]>, bytes: number): ArrayBuffer {
  const joined = new Uint8Array(new ArrayBuffer(bytes));
  let at = 0;
  for (const [buf, start, end, newline] of pieces) {
    joined.set(buf.subarray(start, end), at);
    at += end - start;
    if (newline) joined.set(NEWLINE, at++);
  }
  return joined.buffer;
}

function describe(cause: unknown): string {
  const { name, message } = causeParts(cause);
  return message ? `${name}: ${message}` : name;
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function idOf(record: unknown, line: number, field: string | undefined): unknown {
  if (field === undefined || record === null || typeof record !== 'object') return line;
  return (record as Record<string, unknown>)[field] ?? line;
}

/** Extra fields a failure carries into its dead letter (exit, signal, stderr; where it was raised). */
function detailsOf(cause: unknown): object | undefined {
  const details = cause !== null && typeof cause === 'object' ? (cause as { details?: unknown }).details : undefined;
  return details !== null && typeof details === 'object' ? { ...details } : undefined;
}

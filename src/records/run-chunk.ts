import { toErrorData, type OpError } from '../core/errors.js';
import type { LoadedHandler } from '../handler/load-handler.js';
import type { SharedContext } from '../handler/record-context.js';
import { decodeLines } from '../io/decode-lines.js';
import { suspectsWithin } from '../io/scan-numbers.js';
import { Batcher } from './batcher.js';
import type { CallLimit } from './call-limit.js';
import type { ChunkResult, ChunkSetup } from './chunk.js';
import { cutPieces } from './cut-pieces.js';
import { hashLines } from './line-hashes.js';
import { RecordRunner, type DeadLetter } from './record-runner.js';
import { ReorderWindow } from './reorder-window.js';
import type { MembersFn, StepStats } from './run-steps.js';
import { runLines, runRecords, type LineRun, type LineStart } from './run-lines.js';

/** Results held behind a slow record, per unit of concurrency (and never fewer than 1,024). */
const WINDOW_PER_SLOT = 16;

/** The part of a chunk the chunk function needs: its lines' bytes and where they stand. */
export interface ChunkLines {
  bytes: Buffer;
  skip?: number[] | undefined;
  hashLines?: boolean | undefined;
  /**
   * `findSuspects(bytes)` (io/scan-numbers.ts), when the sender already made it: the
   * threads executor scans on the main thread, which is mostly idle under -w N, so the
   * workers skip that pass over every byte.
   */
  suspects?: number[] | undefined;
  firstLine: number;
  firstIndex: number;
  source: string;
  batches: number[] | undefined;
}

export interface ChunkRunOptions {
  /** With --max-errors: the limit, and the failures the run counted before this chunk. */
  errorLimit?: { max: number; before: number } | undefined;
  /** Called before each record starts (the --timeout watchdog's sign of life in threads). */
  beforeRecord?: (() => void) | undefined;
  /** True once no more records may start (a stop: a signal, a halt); the chunk ends there. */
  halted?: (() => boolean) | undefined;
  /**
   * Output and dead letters as they are produced, instead of in the result (the main
   * thread's chunks, so that finished records are written while slow ones still run).
   */
  stream?: OutputStream | undefined;
  /**
   * Output pieces as UTF-8 bytes as they are written, not as text kept to the chunk's end (a
   * worker's result, moved across the thread as bytes anyway). A chunk's text then dies young:
   * held to the end, each piece's string of ~600 records survived V8's scavenges of the young
   * generation. Over 1,000,000 records at -w 2: GC per worker 180-220 ms -> 110-125 ms.
   */
  bytes?: boolean | undefined;
}

/** Where a chunk's output goes as it is produced (engine/deliver-results.ts ChunkStream). */
export interface OutputStream {
  write(text: string): Promise<void> | undefined;
  deadLetter(entry: DeadLetter): void;
  /** Given how many of the chunk's records have finished so far, for the progress line. */
  track?(done: () => number): void;
}

/**
 * The one chunk function, the same in every executor: a chunk of whole lines in, its
 * output text, dead letters, stats and failure out. Decodes in pieces (cut-pieces.ts),
 * parses, runs the handler through a reorder window, serialises.
 */
export class ChunkRunner {
  /** The record runners of chunks in progress. */
  private readonly active = new Set<RecordRunner>();
  /**
   * Settles once the last chunk begun has started all its records. Chunks overlap only at
   * their edges: a chunk starts records once the one before it has started all of its own.
   * Were they to share the calls freely, a later chunk's finished records would wait, held,
   * for the earlier chunk to end: with small input lines and large outputs (op each), the
   * output of a whole chunk's records.
   */
  private allStarted: Promise<void> = Promise.resolve();

  constructor(
    private readonly setup: ChunkSetup,
    private readonly handler: LoadedHandler,
    private readonly shared: SharedContext,
    /** A --concurrency limit shared by overlapping chunks of one thread. */
    private readonly calls?: CallLimit,
  ) {}

  /** Places of the handler calls still in flight, in every chunk in progress. */
  get unfinished(): Array<{ source: string; line: number }> {
    return [...this.active].flatMap((runner) => runner.unfinished);
  }

  /** Fails every handler call in flight with `cause` (record-runner.ts); returns how many. */
  abandon(cause: OpError): number {
    let n = 0;
    for (const runner of this.active) n += runner.abandon(cause);
    return n;
  }

  async run(chunk: ChunkLines, options: ChunkRunOptions = {}): Promise<ChunkResult> {
    const before = this.allStarted;
    let started!: () => void;
    this.allStarted = new Promise((resolve) => (started = resolve));
    try {
      await before;
      return await this.runStarted(chunk, options, started);
    } finally {
      started();
    }
  }

  /** `onAllStarted` is called once every record of the chunk has started. */
  private async runStarted(chunk: ChunkLines, options: ChunkRunOptions, onAllStarted: () => void): Promise<ChunkResult> {
    const { setup } = this;
    // Per-record results (--journal, --to) need the output in the result, piece by piece.
    const stream = setup.perRecord ? undefined : options.stream;
    const startedAt = performance.now();
    const deadLetters: DeadLetter[] = [];
    const deadLetterAt: number[] = [];
    const out: Array<string | Uint8Array> = [];
    const runner = new RecordRunner({
      kind: setup.kind,
      handler: this.handler.fn,
      wantsContext: this.handler.wantsContext,
      shared: this.shared,
      retries: setup.retries,
      retryDelay: setup.retryDelay,
      timeout: setup.timeout,
      idField: setup.idField,
      deadLetter: !setup.deadLetters ? undefined : stream ? (entry) => stream.deadLetter(entry) : (entry) => void (deadLetters.push(entry), deadLetterAt.push(out.length)),
      errorLimit: options.errorLimit,
      stage: setup.stage,
      handlerOfMembers: 'fnOfMembers' in this.handler ? (this.handler as { fnOfMembers?: MembersFn }).fnOfMembers : undefined,
    });
    this.active.add(runner);
    stream?.track?.(() => runner.done);
    const window = new ReorderWindow({
      concurrency: setup.concurrency,
      capacity: Math.max(1024, setup.concurrency * WINDOW_PER_SLOT),
      ordered: !setup.unordered,
      calls: this.calls,
    });
    const run: LineRun = {
      runner,
      window,
      source: chunk.source,
      nextIndex: chunk.firstIndex,
      write: stream ? (text) => stream.write(text) : options.bytes && !setup.perRecord ? (text) => void out.push(Buffer.from(text, 'utf8')) : (text) => void out.push(text),
      halted: () => window.failed || this.shared.signal.aborted || options.halted?.() === true,
      beforeRecord: options.beforeRecord,
    };
    const batcher = setup.batch && chunk.batches && new Batcher(runner, { withHandler: setup.handler.type !== 'builtin' || setup.steps !== undefined, sizes: [...chunk.batches] });
    let start: LineStart | undefined = batcher ? (text, line, index, bad) => batcher.add(text, line, index, chunk.source, bad) : undefined;
    let flush = (): string | Promise<string> | undefined => batcher?.flush();
    let outLines: number[] | undefined;
    let sideAt: number[] | undefined;
    if (setup.perRecord) {
      // Each record's output becomes a piece of its own, tagged with its line, as it completes.
      const lines: number[] = [];
      outLines = lines;
      const tag = (result: string | Promise<string> | undefined, line: number): string | Promise<string> | undefined => {
        if (result === undefined) return undefined;
        const keep = (text: string): string => (out.push(text), lines.push(line), '');
        return typeof result === 'string' ? keep(result) : result.then(keep);
      };
      const inner: LineStart = start ?? ((text, line, index, bad) => runner.run(text, line, index, chunk.source, bad));
      let last = chunk.firstLine;
      const side = this.shared.side;
      if (side) sideAt = [];
      start = (text, line, index, bad) => {
        last = line;
        // The version this record's ctx takes as it starts (record-context.ts), for the journal.
        if (side) sideAt!.push(line, side.current().version);
        return tag(inner(text, line, index, bad), line);
      };
      const flushBatch = flush;
      flush = () => tag(flushBatch(), last);
    }
    if (chunk.skip?.length) run.skip = new Set(chunk.skip);
    let line = chunk.firstLine;
    for (const piece of cutPieces(chunk.bytes)) {
      const { lines, bad } = decodeLines(piece, chunk.suspects && suspectsWithin(chunk.suspects, piece.byteOffset - chunk.bytes.byteOffset, piece.length));
      await runLines(run, lines, bad, line, start);
      line += lines.length;
      if (run.halted()) break;
    }
    if (batcher && !run.halted()) await runRecords(run, 1, flush);
    onAllStarted();
    await window.drain();
    this.active.delete(runner);
    const rest = window.take();
    if (rest && stream) await stream.write(rest);
    else if (rest) out.push(rest);
    const steps = 'stepStats' in this.handler ? (this.handler as { stepStats(): StepStats[] }).stepStats() : undefined;
    // The record pieces packed into one text (ChunkResult.packed): one string to merge, one buffer to move across a thread.
    const packed = setup.packRecords ? out.map((piece) => piece.length) : undefined;
    // Hashed here, where the chunk runs: with -w N the workers make the journal's keys.
    const lineHashes = chunk.hashLines ? hashLines(chunk.bytes, chunk.firstLine) : undefined;
    return { out: packed ? [out.join('')] : out, packed, lineHashes, stats: runner.stats, deadLetters, deadLetterAt, failure: window.failed ? toErrorData(window.headFailure) : undefined, setupFailure: undefined, ms: performance.now() - startedAt, outLines, sideAt, steps };
  }
}

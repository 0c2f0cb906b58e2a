import { threadId } from 'node:worker_threads';
import Tinypool, { markMovable, workerId } from 'tinypool';
import { OpError, describeCause } from '../core/errors.js';
import { RecordRunner, type DeadLetter } from '../engine/record-runner.js';
import { ReorderWindow } from '../engine/reorder-window.js';
import { Batcher } from '../engine/batcher.js';
import { runLines, runRecords, type LineRun } from '../engine/run-lines.js';
import { newStats } from '../engine/stats.js';
import { loadHandler, type LoadedHandler } from '../handler/load-handler.js';
import { lifecycleContext, type SharedContext } from '../handler/record-context.js';
import { decodeLines } from '../io/decode-lines.js';
import { cutPieces } from './cut-pieces.js';
import type { ChunkResult, ChunkTask, FailureData, WorkerSetup } from './chunk-task.js';

/** How often a waiting worker proves it is alive to the --timeout watchdog. */
const BEAT_MS = 20;

const setup = Tinypool.workerData as WorkerSetup;
// Handler output must never reach stdout, which carries records; a worker's stdout is
// forwarded asynchronously and could land inside a line.
console.log = console.info = console.debug = console.error;
// A handler calling process.exit() would end the thread silently; make it a crash that the
// pool sees (an uncaught error), so the worker is replaced and the chunk retried. Node's own
// handling of an uncaught error also calls process.exit(), which must go through.
const exitThread = process.exit.bind(process);
let crashing = false;
process.on('uncaughtExceptionMonitor', () => (crashing = true));
process.exit = ((code?: number) => {
  if (crashing) return exitThread(code);
  crashing = true;
  const error = new Error(`handler called process.exit(${code ?? ''})`);
  setImmediate(() => {
    throw error;
  });
  throw error;
}) as typeof process.exit;

const shared: SharedContext = {
  command: setup.command,
  rank: setup.rank,
  world: setup.world,
  workerId,
  config: setup.config,
  signal: new AbortController().signal,
  workdir: setup.workdir,
  log: (line) => process.stderr.write(line + '\n'),
};

/** Loaded once per worker; a failure is kept and reported with every task, never thrown at import (that would leave the pool without workers). */
const ready: Promise<LoadedHandler | FailureData> = (async () => {
  try {
    const handler = await loadHandler(setup.handler);
    if (handler.setup) await handler.setup(lifecycleContext(shared));
    return handler;
  } catch (error) {
    return toFailure(new OpError(`setup failed: ${describeCause(error)}`, { cause: error }));
  }
})();

const beats = new Set<Float64Array>();
setInterval(() => {
  const now = Date.now();
  for (const beat of beats) beat[0] = now;
}, BEAT_MS).unref();

export default async function runChunk(task: ChunkTask): Promise<unknown> {
  const handler = await ready;
  if (!('fn' in handler)) return movable(emptyResult(handler));
  const deadLetters: DeadLetter[] = [];
  const runner = new RecordRunner({
    ...setup,
    handler: handler.fn,
    wantsContext: handler.wantsContext,
    shared,
    deadLetter: setup.deadLetters ? (entry) => deadLetters.push(entry) : undefined,
    maxErrors: undefined,
  });
  const window = new ReorderWindow(setup.concurrency, Math.max(1024, setup.concurrency * 16), !setup.unordered);
  const beat = task.beat ? new Float64Array(task.beat) : undefined;
  if (beat) {
    beat[1] = threadId;
    beats.add(beat);
  }
  const out: ArrayBuffer[] = [];
  const run: LineRun = {
    runner,
    window,
    source: task.source,
    nextIndex: task.firstIndex,
    write: (text) => void out.push(encode(text)),
    halted: () => window.failed,
    beforeRecord: beat ? () => (beat[0] = Date.now()) : undefined,
  };
  // op batch: the main thread decided the batches, so they come out as they would inline.
  const batcher = setup.batch && task.batches && new Batcher(runner, setup.batch, setup.handler.type !== 'builtin', [...task.batches]);
  const start = batcher && ((text: string, line: number, index: number, why: string | undefined) => batcher.add(text, line, index, task.source, why));
  try {
    const bytes = Buffer.from(task.sab, task.start, task.end - task.start);
    let line = task.firstLine;
    for (const piece of cutPieces(bytes)) {
      const { lines, bad } = decodeLines(piece);
      await runLines(run, lines, bad, line, start);
      line += lines.length;
      if (window.failed) break;
    }
    if (batcher && !window.failed) await runRecords(run, 1, () => batcher.flush());
    await window.drain();
    const rest = window.take();
    if (rest) out.push(encode(rest));
  } finally {
    if (beat) beats.delete(beat);
  }
  const result: ChunkResult = {
    out,
    stats: runner.stats,
    deadLetters,
    failure: window.failed ? toFailure(window.headFailure) : undefined,
    setupFailure: undefined,
  };
  return movable(result);
}

/** Runs the handler's teardown once per worker, when the pool is destroyed. */
export async function teardown(): Promise<void> {
  const handler = await ready;
  if ('fn' in handler && handler.teardown) await handler.teardown(lifecycleContext(shared));
}

/** UTF-8 bytes of `text` in an ArrayBuffer of their own, to transfer rather than copy. */
function encode(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'utf8');
  // Above 4 KiB a Buffer owns its ArrayBuffer; below, it is a slice of Node's shared pool.
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes.buffer as ArrayBuffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

function movable(result: ChunkResult): unknown {
  const wrapped = { [Tinypool.transferableSymbol]: result.out, [Tinypool.valueSymbol]: result };
  markMovable(wrapped);
  return wrapped;
}

function emptyResult(setupFailure: FailureData): ChunkResult {
  return { out: [], stats: newStats(), deadLetters: [], failure: undefined, setupFailure };
}

function toFailure(error: unknown): FailureData {
  if (error instanceof OpError) {
    return { name: error.name, message: error.message, exitCode: error.exitCode, place: error.place, excerpt: error.excerpt };
  }
  return { name: 'Error', message: describeCause(error), exitCode: 1, place: undefined, excerpt: undefined };
}

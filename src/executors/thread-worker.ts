import { threadId } from 'node:worker_threads';
import Tinypool, { markMovable, workerId } from 'tinypool';
import { OpError, UnsettledError, describeCause, toErrorData, type ErrorData } from '../core/errors.js';
import { loadHandler, type LoadedHandler } from '../handler/load-handler.js';
import { lifecycleContext, type SharedContext } from '../handler/record-context.js';
import { redirectStdout } from '../handler/guard-process.js';
import { SharedSideReader } from '../handler/side-inputs.js';
import type { ChunkResult, ChunkSetup } from '../records/chunk.js';
import { emptyResult } from '../records/failed-records.js';
import { ChunkRunner } from '../records/run-chunk.js';
import { loadChain } from '../records/run-steps.js';
import { readFailure, writeFailure } from './failure-slot.js';
import type { ThreadTask } from './thread-task.js';

/** How often a waiting worker proves it is alive to the --timeout watchdog. */
const BEAT_MS = 20;

const setup = Tinypool.workerData as ChunkSetup & { teardownFailure: SharedArrayBuffer; stopSlot: SharedArrayBuffer };
// Handler output must never reach stdout, which carries records; a worker's stdout is
// forwarded asynchronously and could land inside a line.
console.log = console.info = console.debug = console.error;
redirectStdout(`${setup.command}: `);
// A handler calling process.exit() would end the thread silently. The call throws instead
// (its record fails), and once the running code yields the thread crashes in a way the pool
// sees (an uncaught error), so the worker is replaced and its chunk rerun a record at a
// time. Every call throws, however many come before that crash: records run back to back
// in one task. Only Node's own handling of the uncaught error goes through.
const exitThread = process.exit.bind(process);
let crashing = false;
let crashScheduled = false;
process.on('uncaughtExceptionMonitor', () => (crashing = true));
process.exit = ((code?: number) => {
  if (crashing) return exitThread(code);
  const error = new Error(`handler called process.exit(${code ?? ''})`);
  if (!crashScheduled) {
    crashScheduled = true;
    setImmediate(() => {
      throw error;
    });
  }
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
  side: setup.side && new SharedSideReader(setup.side),
};

let loaded: LoadedHandler | undefined;
/** Loaded once per worker; a failure is kept and reported with every task, never thrown at import (that would leave the pool without workers). */
const ready: Promise<ChunkRunner | ErrorData> = (async () => {
  try {
    const handler = setup.steps ? await loadChain(setup.steps, shared, setup.side?.dir) : await loadHandler(setup.handler);
    if (handler.setup) await handler.setup(lifecycleContext(shared));
    loaded = handler;
    return new ChunkRunner(setup, handler, shared);
  } catch (error) {
    return toErrorData(new OpError(`setup failed: ${describeCause(error)}`, { cause: error, stage: 'setup' }));
  }
})();

/**
 * Calls that can never settle: records are in flight, yet nothing but the pool's own
 * message ports is left in this thread's event loop (no timer, socket, file or child of the
 * handler's), twice in a row. Each such record fails ("handler never settled") instead of
 * holding the run forever.
 */
const STUCK_CHECK_MS = 100;
let stuckSeen = false;
setInterval(() => {
  void ready.then((runner) => {
    if (!(runner instanceof ChunkRunner) || runner.unfinished.length === 0) return;
    const idle = process.getActiveResourcesInfo().every((resource) => resource === 'MessagePort');
    if (idle && stuckSeen) runner.abandon(new UnsettledError());
    stuckSeen = idle;
  });
}, STUCK_CHECK_MS).unref();

/**
 * A stop whose --stop-timeout ran out (the main thread left its cause in the stop slot):
 * the calls in flight fail with it, no record starts after it, and the records that
 * finished go back with the task's result, to be written.
 */
let stopCause: string | undefined;
let stoppedPlaces: Array<{ source: string; line: number }> = [];
function checkStop(): void {
  if (stopCause !== undefined) return;
  stopCause = readFailure(setup.stopSlot);
  if (stopCause === undefined) return;
  const cause = new UnsettledError(stopCause);
  void ready.then((runner) => {
    if (!(runner instanceof ChunkRunner)) return;
    stoppedPlaces = runner.unfinished;
    runner.abandon(cause);
  });
}

const beats = new Set<Float64Array>();
setInterval(() => {
  checkStop();
  const now = Date.now();
  for (const beat of beats) beat[0] = now;
}, BEAT_MS).unref();

/**
 * The pool hands a worker its next task while one runs (concurrentTasksPerWorker in
 * threads.ts), so the worker goes on without a round trip through the main thread. Tasks
 * still run one after another: --concurrency stays per worker.
 */
let previous: Promise<unknown> = Promise.resolve();
export default function runTask(task: ThreadTask): Promise<unknown> {
  const turn = previous.then(() => runOne(task));
  previous = turn.then(noop, noop);
  return turn;
}

function noop(): void {}

async function runOne(task: ThreadTask): Promise<unknown> {
  const runner = await ready;
  if (!(runner instanceof ChunkRunner)) return movable({ ...emptyResult(), setupFailure: runner });
  const beat = task.beat ? new Float64Array(task.beat) : undefined;
  if (beat) {
    beat[1] = threadId;
    beats.add(beat);
  }
  try {
    checkStop();
    if (stopCause !== undefined) return { ...emptyResult(), stopped: 'all' };
    const bytes = Buffer.from(task.sab, task.start, task.end - task.start);
    const result: ChunkResult = await runner.run({ ...task, bytes }, { errorLimit: task.errorLimit, beforeRecord: beat ? () => (beat[0] = Date.now()) : undefined, halted: () => stopCause !== undefined, bytes: true });
    if (stopCause !== undefined) result.stopped = stoppedPlaces;
    // One piece per record, unpacked (--to a queue), stays text: thousands of tiny buffers cost more than a copy.
    if (setup.perRecord && !result.packed) return result;
    return movable({ ...result, out: result.out.map(encode) });
  } finally {
    if (beat) beats.delete(beat);
  }
}

/** Runs the handler's teardown once per worker, when the pool is destroyed; a failure is left for the main thread to report. */
export async function teardown(): Promise<void> {
  await ready;
  try {
    if (loaded?.teardown) await loaded.teardown(lifecycleContext(shared));
  } catch (error) {
    writeFailure(setup.teardownFailure, describeCause(error));
  }
}

/** A piece of output as UTF-8 bytes in an ArrayBuffer of their own, to transfer rather than copy. */
function encode(piece: string | ArrayBuffer | Uint8Array): ArrayBuffer {
  if (piece instanceof ArrayBuffer) return piece;
  const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
  // Above 4 KiB a Buffer owns its ArrayBuffer; below, it is a slice of Node's shared pool
  // (copied out: `Buffer#slice` would be a view of the pool).
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
}

function movable(result: ChunkResult): unknown {
  const wrapped = { [Tinypool.transferableSymbol]: result.out, [Tinypool.valueSymbol]: result };
  markMovable(wrapped);
  return wrapped;
}

import { parentPort, workerData } from 'node:worker_threads';
import { OpError, RecordError, causeParts, describeCause, type Stage } from '../core/errors.js';
import type { DeadLetter } from '../records/record-runner.js';
import { decodeLines } from '../io/decode-lines.js';
import { loadAggregator, type AggregatorSpec } from './load-aggregator.js';
import { ReduceStep, type ReduceStepOptions } from './reduce-step.js';

/** What a reduce worker is started with: the step's options as plain data. */
export interface ReduceWorkerData extends AggregatorSpec {
  step: Omit<ReduceStepOptions, 'aggregator' | 'signal' | 'deadLetter' | 'log'>;
  deadLetters: boolean;
}

/** Main → worker: whole lines of this worker's records, with each one's line number and global record index. */
export type ToWorker = { type: 'lines'; source: string; bytes: Uint8Array; lines: Float64Array; indices: Float64Array } | { type: 'end' } | { type: 'next' };

/** Worker → main. */
export type FromWorker =
  | { type: 'ack'; dead: DeadLetter[]; records: number }
  | { type: 'out'; text: string }
  | { type: 'done'; stats: ReduceStep['stats'] }
  | { type: 'error'; error: WorkerError };

/** A failure, as plain data; `record` is set for a record that failed at a stage. */
export interface WorkerError {
  message: string;
  exitCode: number;
  place: { source: string; line: number } | undefined;
  excerpt: string | undefined;
  record: { stage: Stage; attempts: number; cause: { name: string; message: string } } | undefined;
}

const port = parentPort!;
const data = workerData as ReduceWorkerData;
let dead: DeadLetter[] = [];
const step = new ReduceStep({
  ...data.step,
  aggregator: await loadAggregator(data),
  signal: new AbortController().signal,
  deadLetter: data.deadLetters ? (entry) => dead.push(entry) : undefined,
  log: (line) => process.stderr.write(`op reduce: ${line}\n`),
});
let output: AsyncGenerator<string> | undefined;
let mine = 0;
// Messages are handled one at a time, in order, even when a handler step is asynchronous.
let queue = Promise.resolve();

port.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message)).catch((error: unknown) => {
    const op = error instanceof OpError ? error : undefined;
    const record = error instanceof RecordError ? { stage: error.stage ?? 'reduce', attempts: error.attempts, cause: causeParts(error.cause) } : undefined;
    post({ type: 'error', error: { message: op ? op.message : describeCause(error), exitCode: op?.exitCode ?? 1, place: op?.place, excerpt: op?.excerpt, record } });
    // Nothing more is handled after a failure.
    queue = new Promise(() => {});
  });
});

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'lines':
      await feed(message);
      post({ type: 'ack', dead, records: mine });
      dead = [];
      return;
    case 'end':
      output = step.end();
      return next();
    case 'next':
      return next();
  }
}

/** One piece of the final output per request, so the main thread is never flooded. */
async function next(): Promise<void> {
  const piece = await output!.next();
  if (piece.done) {
    step.dispose();
    post({ type: 'done', stats: step.stats });
  } else post({ type: 'out', text: piece.value });
}

async function feed({ source, bytes, lines: lineNumbers, indices }: Extract<ToWorker, { type: 'lines' }>): Promise<void> {
  const { lines, bad } = decodeLines(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  for (let k = 0; k < lines.length; k++) {
    const text = lines[k]!;
    const why = bad?.get(k);
    mine++;
    const place = { source, line: lineNumbers[k]!, index: indices[k]! };
    if (why !== undefined) {
      step.reject(text, place, why.stage ?? 'decode', why);
      continue;
    }
    // CRLF input: the \r is the line ending's, not the record's.
    const clean = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    let record: unknown;
    try {
      record = JSON.parse(clean);
    } catch (error) {
      step.reject(clean, place, 'parse', error);
      continue;
    }
    const done = step.push(record, place);
    if (done) await done;
  }
}

function post(message: FromWorker): void {
  port.postMessage(message);
}

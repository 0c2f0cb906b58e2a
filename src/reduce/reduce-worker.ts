import { parentPort, workerData } from 'node:worker_threads';
import { InputError, OpError, RecordError, causeParts, describeCause } from '../core/errors.js';
import type { DeadLetter } from '../engine/record-runner.js';
import { isBlankText } from '../io/is-blank-line.js';
import { LineSplitter, type LineChunk } from '../io/split-lines.js';
import { loadAggregator, type AggregatorSpec } from './load-aggregator.js';
import { ReduceStep, type ReduceStepOptions } from './reduce-step.js';
import { KeyRouter } from './route-key.js';

/** What a reduce worker is started with: the step's options as plain data, and which worker it is. */
export interface ReduceWorkerData extends AggregatorSpec {
  step: Omit<ReduceStepOptions, 'aggregator' | 'signal' | 'deadLetter' | 'log'>;
  deadLetters: boolean;
  worker: number;
  workers: number;
}

/** Main → worker: every worker sees every byte of input, and keeps the records whose key hashes to it. */
export type ToWorker = { type: 'source'; name: string } | { type: 'bytes'; bytes: Uint8Array } | { type: 'source-end' } | { type: 'end' } | { type: 'next' };

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
  record: { stage: string; attempts: number; cause: { name: string; message: string } } | undefined;
}

const port = parentPort!;
const data = workerData as ReduceWorkerData;
const me = data.worker;
const router = new KeyRouter(data.step.key, data.workers);
let dead: DeadLetter[] = [];
const step = new ReduceStep({
  ...data.step,
  aggregator: await loadAggregator(data),
  signal: new AbortController().signal,
  deadLetter: data.deadLetters ? (entry) => dead.push(entry) : undefined,
  log: (line) => process.stderr.write(`op reduce: ${line}\n`),
});
let output: AsyncGenerator<string> | undefined;
let source = '';
let splitter = new LineSplitter();
/** The global record index: every worker counts every record, so indexes agree. */
let nextIndex = 0;
let mine = 0;
// Messages are handled one at a time, in order, even when a handler step is asynchronous.
let queue = Promise.resolve();

port.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message)).catch((error: unknown) => {
    const op = error instanceof OpError ? error : undefined;
    const record = error instanceof RecordError ? { stage: error.stage, attempts: error.attempts, cause: causeParts(error.cause) } : undefined;
    post({ type: 'error', error: { message: op ? op.message : describeCause(error), exitCode: op?.exitCode ?? 1, place: op?.place, excerpt: op?.excerpt, record } });
    // Nothing more is handled after a failure.
    queue = new Promise(() => {});
  });
});

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'source':
      source = message.name;
      splitter = new LineSplitter();
      return;
    case 'bytes': {
      const chunk = splitter.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      if (chunk) await feed(chunk);
      post({ type: 'ack', dead, records: mine });
      dead = [];
      return;
    }
    case 'source-end': {
      const tail = splitter.end();
      if (tail) await feed(tail);
      post({ type: 'ack', dead, records: mine });
      dead = [];
      return;
    }
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

async function feed({ lines, bad, firstLine }: LineChunk): Promise<void> {
  if (firstLine === 1 && lines[0]?.charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  for (let k = 0; k < lines.length; k++) {
    const text = lines[k]!;
    const why = bad?.get(k);
    if (why === undefined && isBlankText(text)) continue;
    const index = nextIndex++;
    // CRLF input: the \r is the line ending's, not the record's.
    const clean = why === undefined && text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    // Lines that cannot be read or scanned are worker 0's, which reports them.
    if ((why === undefined ? router.workerOf(clean) : 0) !== me) continue;
    mine++;
    const place = { source, line: firstLine + k, index };
    if (why !== undefined) {
      step.reject(text, place, why.startsWith('invalid') ? 'decode' : 'read', new InputError(why));
      continue;
    }
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

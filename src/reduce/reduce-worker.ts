import { parentPort, workerData } from 'node:worker_threads';
import { OpError, RecordError, causeParts, describeCause, type Stage } from '../core/errors.js';
import type { DeadLetter } from '../records/record-runner.js';
import { isAscii, isUtf8 } from 'node:buffer';
import { invalidUtf8 } from '../io/decode-lines.js';
import { lineOutOfRange } from '../io/out-of-range.js';
import { BLOCK_BYTES } from '../io/scan-numbers.js';
import { loadAggregator, type AggregatorSpec } from './load-aggregator.js';
import { ReduceStep, type ReduceStepOptions } from './reduce-step.js';
import { BLANK } from './route-bytes.js';

/** What a reduce worker is started with: the step's options as plain data. */
export interface ReduceWorkerData extends AggregatorSpec {
  step: Omit<ReduceStepOptions, 'aggregator' | 'signal' | 'deadLetter' | 'log'>;
  deadLetters: boolean;
  /** This worker (0-based): it reduces the records whose key hashes to it. */
  worker?: number;
}

/**
 * Main → worker: a source begins; whole lines of it, each with its owner (every worker
 * gets every line, in order, and keeps its own); the end.
 */
export type ToWorker = { type: 'source'; source: string } | { type: 'lines'; bytes: SharedArrayBuffer; length: number; owners: Uint16Array<SharedArrayBuffer>; ends: Uint32Array<SharedArrayBuffer>; suspects: number[] } | { type: 'end' } | { type: 'next' };

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
const me = data.worker ?? 0;
/** Records of this worker so far. */
let mine = 0;
/** Where the lines are: the source, the last line's number in it, the last record's index across sources. */
let source = '';
let lineNo = 0;
let nextIndex = 0;
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
    case 'source':
      source = message.source;
      lineNo = 0;
      return;
    case 'lines':
      // Read in place: each worker decodes only its own lines, so a private copy of the whole read costs more than it saves.
      // The lines are the first `length` bytes; a read into shared memory may leave more after them.
      await feed(Buffer.from(message.bytes, 0, message.length), message);
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

/**
 * This worker's records of `buf` (whole lines): every line is counted, for line numbers and
 * record indices; only its own are decoded. Where each line ends, and where a number
 * beyond the double range may be, come from the main thread's one scan of the read.
 */
async function feed(buf: Buffer, { owners, ends, suspects }: { owners: Uint16Array; ends: Uint32Array; suspects: number[] }): Promise<void> {
  const valid = isUtf8(buf);
  // ASCII lines decode as latin1, a plain copy, with no UTF-8 decoding.
  const encoding = isAscii(buf) ? 'latin1' : 'utf8';
  let next = 0;
  let start = 0;
  for (let k = 0; k < owners.length; k++) {
    const nl = ends[k]!;
    let s = start;
    start = nl + 1;
    lineNo++;
    const owner = owners[k];
    if (owner === BLANK) continue;
    const index = nextIndex++;
    if (owner !== me) continue;
    mine++;
    while (next < suspects.length && suspects[next]! + BLOCK_BYTES <= s) next++;
    // A byte-order mark belongs to the file, not to the first record.
    if (lineNo === 1 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    // CRLF input: the \r is the line ending's, not the record's.
    const end = nl > s && buf[nl - 1] === 13 ? nl - 1 : nl;
    const place = { source, line: lineNo, index };
    const text = buf.toString(encoding, s, end);
    if (!valid && !isUtf8(buf.subarray(s, end))) {
      step.reject(text, place, 'decode', invalidUtf8(buf.subarray(s, end)));
      continue;
    }
    const range = next < suspects.length && suspects[next]! < nl ? lineOutOfRange(buf.subarray(s, end), text) : undefined;
    if (range) {
      step.reject(text, place, 'parse', range);
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      step.reject(text, place, 'parse', error);
      continue;
    }
    const done = step.push(record, place);
    if (done) await done;
  }
}

function post(message: FromWorker): void {
  port.postMessage(message);
}

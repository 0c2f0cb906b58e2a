import type { Executor } from '../executors/executor.js';
import type { BatchLimits } from '../records/batcher.js';
import type { ChunkResult } from '../records/chunk.js';
import type { DeadLetter } from '../records/record-runner.js';
import { pieceText, recordPieces } from '../records/record-pieces.js';
import { QueueConsumer, type QueueEntry } from '../queue/consumer.js';
import { parseQueueUrl } from '../queue/queue-url.js';
import { ChunkRing, fitSlot, type Slot } from './chunk-ring.js';
import { ChunkScanner } from './chunk-scanner.js';
import type { Delivery } from './deliver-results.js';
import type { SourceChunk } from './read-chunks.js';
import type { StopSignal } from './stop-signal.js';

/** `--from URL`: records come from a queue's `:in` stream; `--to URL`: results go to its `:out`. */
export interface QueueOptions {
  from: string;
  /** Undefined: results go to the output (stdout), acked once flushed (at least once). */
  to: string | undefined;
  group: string;
  visibilityMs: number;
  maxDeliveries: number;
  /** Exit once the stream has nothing new and nothing pending; else run until a signal. */
  drain: boolean;
}

export interface QueueRun {
  command: string;
  rank: number;
  batch: BatchLimits | undefined;
  executor: Executor;
  delivery: Delivery;
  stop: StopSignal;
}

/**
 * Entries per read at most: bounds a chunk's memory (1,000 lines of ~200 bytes: 200 KB,
 * held as the reply, the chunk, parsed records and results). With the ring's chunks in
 * flight, 2,000 made a consumer's peak RSS ~15 MiB higher for no measurable speed.
 */
const MAX_READ = 1000;
/**
 * A read aims at this much handler time: long enough that the two round trips of a
 * chunk (read, ack) are amortised over many records, short enough that a
 * slow handler does not sit on entries other consumers could take.
 */
const CHUNK_MS = 200;
/** How long an empty read waits for new entries; SIGINT cuts it short. */
const BLOCK_MS = 500;

/**
 * The queue as a source and a sink of the trunk. Entries are read in batches and become
 * chunks of NDJSON lines (each chunk keeps its entry ids) for the same executor and the
 * same delivery step as any input. A first delivery's handler start is implied, not
 * recorded: a redelivered entry counts it, plus the starts recorded (one script each)
 * when it ran alone (--max-deliveries counts those). After a chunk ran:
 * - failed records go to `:dead` with their error (after --retries), acked in the same script;
 * - with --to, one script acks each entry and adds its results to `:out`, only if the ack
 *   removed a pending entry: exactly once, even when two consumers finished the record;
 * - without --to, the output is written and flushed first, then the entries are acked:
 *   at least once (a consumer killed between the two writes those records again).
 * Entries delivered before (this consumer's own pending ones, or claimed from a consumer
 * that went quiet) run alone, one at a time, after everything in flight: a record that
 * kills its process is then the only one whose start count grows.
 */
export async function pumpQueue(queue: QueueOptions, run: QueueRun): Promise<unknown> {
  const { executor, delivery, stop } = run;
  const from = parseQueueUrl(queue.from);
  const resultsKey = queue.to === undefined ? undefined : parseQueueUrl(queue.to).keys.out;
  const consumer = await QueueConsumer.open({
    queue: from,
    group: queue.group,
    rank: run.rank,
    visibilityMs: queue.visibilityMs,
    resultsKey,
    log: (message) => process.stderr.write(`${run.command}: ${message}\n`),
  });
  const ring = ChunkRing.for(executor);
  const unlisten = stop.onStop(() => void consumer.interrupt());
  const halted = (): boolean => stop.stopped || delivery.failed;
  const state: PumpState = { consumer, queue, run, ring, index: 0, source: from.shown, msPerRecord: 1 };
  let failure: unknown;
  let lineBytes = 100;
  try {
    while (!halted()) {
      const slot = await ring.acquire();
      if (halted()) {
        ring.release(slot);
        break;
      }
      const byTime = Math.floor(CHUNK_MS / state.msPerRecord);
      const max = Math.max(1, Math.min(MAX_READ, byTime, Math.max(1, Math.floor(executor.chunkBytes() / lineBytes)) * 16));
      const entries = await consumer.read(max, BLOCK_MS);
      if (entries.length === 0) {
        ring.release(slot);
        if (queue.drain && !halted() && (await consumer.drained())) break;
        continue;
      }
      lineBytes = Math.max(16, (lineBytes + entries.reduce((sum, entry) => sum + entry.line.length + 1, 0) / entries.length) / 2);
      // Entries read are run even after a signal: they are in flight, and finishing them beats waiting out the visibility timeout elsewhere.
      const fresh: QueueEntry[] = [];
      const again: QueueEntry[] = [];
      for (const entry of entries) {
        if (!isOneLine(entry.line)) await consumer.deadLetter(entry.id, { line: entry.line, starts: entry.starts, error: new TypeError('field d is not one NDJSON line') });
        else (entry.redelivered ? again : fresh).push(entry);
      }
      if (again.length) {
        ring.release(slot);
        await runAlone(state, again);
        continue;
      }
      // A first delivery's start is implied, not recorded (QueueConsumer.noteStarts): no round trip before the chunk runs.
      if (fresh.length === 0) ring.release(slot);
      else startChunk(state, slot, fresh.map((entry) => ({ entry, starts: 1 })));
    }
  } catch (error) {
    failure = error;
  }
  unlisten();
  await delivery.settle();
  failure = delivery.failure ?? failure;
  try {
    await executor.close();
  } catch (error) {
    failure ??= error;
  }
  await consumer.close();
  return failure;
}

interface PumpState {
  consumer: QueueConsumer;
  queue: QueueOptions;
  run: QueueRun;
  ring: ChunkRing;
  /** Record index of the next chunk's first record (ctx/i), across the run. */
  index: number;
  source: string;
  /** Handler time per record, averaged over chunks: sets how many entries a read takes. */
  msPerRecord: number;
}

/** An entry about to run, and its handler starts including this one. */
interface Started {
  entry: QueueEntry;
  starts: number;
}

/** Redelivered entries: after everything in flight, each alone; those started --max-deliveries times go to `:dead`. */
async function runAlone(state: PumpState, entries: QueueEntry[]): Promise<void> {
  const { consumer, queue, run, ring } = state;
  await run.delivery.settle();
  for (const entry of entries) {
    if (run.delivery.failed) break;
    if (entry.starts >= queue.maxDeliveries) {
      const error = new Error(`handler started ${entry.starts} times without finishing (--max-deliveries ${queue.maxDeliveries})`);
      await consumer.deadLetter(entry.id, { line: entry.line, starts: entry.starts, error });
      continue;
    }
    const starts = await consumer.noteStart(entry.id);
    if (starts === 0) continue;
    startChunk(state, await ring.acquire(), [{ entry, starts }]);
    await run.delivery.settle();
  }
}

/** Hands the entries to the executor as one chunk, and their results to the delivery step. */
function startChunk(state: PumpState, slot: Slot, started: Started[]): void {
  const { consumer, queue, run, ring } = state;
  const chunk = entryChunk(slot, started, state.index, state.source, run.batch);
  state.index += started.length;
  const dead = new Set<number>();
  const result = run.executor.run(chunk, { errorLimit: undefined }).then(async (value) => {
    state.msPerRecord = Math.max(0.001, (state.msPerRecord + value.ms / started.length) / 2);
    if (value.setupFailure || value.failure) return value;
    await deadLetter(consumer, started, value.deadLetters, dead);
    const settled: ChunkResult = { ...value, deadLetters: [], deadLetterAt: [] };
    if (queue.to === undefined) return settled;
    await consumer.ackWithResults(resultsOf(value, started, dead, chunk.batches));
    return { ...settled, out: [] };
  });
  const written = queue.to === undefined ? async () => void (await consumer.ackAfterWrite(started.filter((_, k) => !dead.has(k)).map(({ entry }) => entry.id))) : undefined;
  run.delivery.add(result, { bytes: chunk.bytes.length, records: chunk.records, written }, () => chunk.slot && ring.release(chunk.slot));
}

/** The entries' lines as a chunk in `slot`: line k+1 is entry k (no entry is blank or holds a newline). */
function entryChunk(slot: Slot, started: Started[], index: number, source: string, batch: BatchLimits | undefined): SourceChunk {
  // Each line written where it goes: joining them first made one long string that V8 had
  // to flatten before encoding it (12% of a consumer's CPU with a trivial handler).
  let length = 0;
  for (const { entry } of started) length += Buffer.byteLength(entry.line) + 1;
  const room = fitSlot(slot, length);
  let at = 0;
  for (const { entry } of started) {
    at += room.buf.write(entry.line, at, 'utf8');
    room.buf[at++] = 0x0a;
  }
  let batches: number[] | undefined;
  if (batch) {
    // The same cut as for any input: --size records, --bytes of the batch line; the read's end closes the last.
    const scanner = new ChunkScanner(batch);
    scanner.scan(room.buf, length);
    scanner.closeOpenBatch();
    batches = scanner.take()?.batches;
  }
  return { bytes: room.buf.subarray(0, length), sab: room.sab, slot: room, overlong: false, inputBytes: length, firstLine: 1, firstIndex: index, records: started.length, batches, source };
}

/** Moves each failed record's entry to `:dead` with its error, acked in the same script. */
async function deadLetter(consumer: QueueConsumer, started: Started[], letters: DeadLetter[], dead: Set<number>): Promise<void> {
  for (const letter of letters) {
    const k = letter.line - 1;
    const one = started[k];
    if (!one || dead.has(k)) continue;
    dead.add(k);
    // The record's error crossed threads as {name, message}; it is stored as such.
    const error = Object.assign(new Error(letter.error.message), { name: letter.error.name });
    await consumer.deadLetter(one.entry.id, { line: one.entry.line, starts: one.starts, error });
  }
}

/**
 * Each live entry with its output lines. Each piece of output is tagged with the last line of
 * its unit (a record, or for op batch a batch), and goes with the first entry of that unit
 * that was not dead-lettered.
 */
function resultsOf(value: ChunkResult, started: Started[], dead: Set<number>, batches: number[] | undefined): Array<{ id: string; lines: string[] }> {
  const firstOf = unitStarts(started.length, batches);
  const lines: string[][] = started.map(() => []);
  const tags = value.outLines ?? [];
  recordPieces(value).forEach((piece, k) => {
    // Line k+1 of an entry chunk is entry k (entryChunk).
    const last = tags[k]! - 1;
    let owner = firstOf[last]!;
    while (owner < last && dead.has(owner)) owner++;
    for (const line of pieceText(piece).split('\n')) if (line) lines[owner]!.push(line);
  });
  const results: Array<{ id: string; lines: string[] }> = [];
  started.forEach(({ entry }, k) => {
    if (!dead.has(k)) results.push({ id: entry.id, lines: lines[k]! });
  });
  return results;
}

/** For each entry, the first entry of its unit: itself, or its batch's first. */
function unitStarts(count: number, batches: number[] | undefined): number[] {
  const starts = Array.from({ length: count }, (_, k) => k);
  if (!batches) return starts;
  let at = 0;
  for (const size of batches) {
    for (let k = at; k < at + size && k < count; k++) starts[k] = at;
    at += size;
  }
  return starts;
}

/** Not blank, no newline inside: one record, so line k of a chunk is entry k. */
function isOneLine(line: string): boolean {
  return line.indexOf('\n') < 0 && line.trim() !== '';
}

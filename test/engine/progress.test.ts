import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Delivery } from '../../src/engine/deliver-results.js';
import { formatProgress, type ProgressState } from '../../src/engine/progress.js';
import type { Sink } from '../../src/io/open-sink.js';
import type { ChunkResult } from '../../src/records/chunk.js';
import { newStats } from '../../src/records/stats.js';

const state = (done: number, fraction: number | undefined, seconds: number, fields?: string[]): ProgressState => ({ done, fraction, seconds, fields });

test('records done, the rate, and percent and ETA from the part of the input processed', () => {
  // A quarter done in 10 s: 30 s to go.
  assert.is(formatProgress('op map', state(1500, 0.25, 10)), 'op map: 1,500 records  150/s  25%  ETA 0:30');
  assert.is(formatProgress('op map', state(6000, 1, 12)), 'op map: 6,000 records  500/s  100%  ETA 0:00');
  // Nothing processed yet: no ETA can be known.
  assert.is(formatProgress('op map', state(0, 0, 3)), 'op map: 0 records  0.0/s  0%');
  // A slow handler's rate keeps a decimal.
  assert.is(formatProgress('op map', state(3, 0.5, 10)), 'op map: 3 records  0.3/s  50%  ETA 0:10');
  // Input of unknown size (a pipe): no percent and no ETA.
  assert.is(formatProgress('op filter', state(42, undefined, 2)), 'op filter: 42 records  21/s');
  assert.is(formatProgress('op each', state(8, 0.5, 4, ['8 done', '1 failed', '2 running'])), 'op each: 8 done  1 failed  2 running  2.0/s  50%  ETA 0:04');
});

test('cut to the columns given: the rate goes first, then the ETA, then the percent; the count is cut last', () => {
  const s = state(1500, 0.25, 10);
  assert.is(formatProgress('op map', s, 80), 'op map: 1,500 records  150/s  25%  ETA 0:30');
  assert.is(formatProgress('op map', s, 43), 'op map: 1,500 records  150/s  25%  ETA 0:30');
  assert.is(formatProgress('op map', s, 42), 'op map: 1,500 records  25%  ETA 0:30');
  assert.is(formatProgress('op map', s, 35), 'op map: 1,500 records  25%');
  assert.is(formatProgress('op map', s, 26), 'op map: 1,500 records  25%');
  assert.is(formatProgress('op map', s, 25), 'op map: 1,500 records');
  assert.is(formatProgress('op map', s, 12), 'op map: 1,50');
  for (let columns = 1; columns < 60; columns++) assert.ok(formatProgress('op map', s, columns).length <= columns, `fits ${columns} columns`);
});

function sink(): Sink {
  return { closed: false, write: () => undefined, end: async () => {}, drain: () => undefined, flush: () => undefined } as Sink;
}

function result(records: number): ChunkResult {
  return { out: [], stats: { ...newStats(), in: records, out: records }, deadLetters: [], deadLetterAt: [], failure: undefined, setupFailure: undefined, ms: 0 };
}

test('the delivery step counts finished records of a chunk still running, and its share of the bytes, once', async () => {
  const delivery = new Delivery({ sink: sink(), errorSink: undefined, maxErrors: undefined, ordered: true });
  let finished = 0;
  let finish = (_: ChunkResult): void => {};
  const stream = delivery.stream();
  stream.track(() => finished);
  delivery.add(new Promise<ChunkResult>((resolve) => (finish = resolve)), { bytes: 1000, records: 100 }, () => {}, stream);
  assert.equal(delivery.progress(), { records: 0, bytes: 0 });
  finished = 25;
  assert.equal(delivery.progress(), { records: 25, bytes: 250 });
  finished = 100;
  finish(result(100));
  await delivery.settle();
  assert.equal(delivery.progress(), { records: 100, bytes: 1000 }, 'delivered, no longer counted as running');
  // Read but not run: a chunk counts nothing until records of it finish.
  delivery.add(new Promise<ChunkResult>(() => {}), { bytes: 5000, records: 500 }, () => {});
  assert.equal(delivery.progress(), { records: 100, bytes: 1000 });
});

test.run();

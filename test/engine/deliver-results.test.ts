import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Delivery } from '../../src/engine/deliver-results.js';
import type { Sink } from '../../src/io/open-sink.js';
import type { ChunkResult } from '../../src/records/chunk.js';
import type { DeadLetter } from '../../src/records/record-runner.js';
import { newStats } from '../../src/records/stats.js';

/** A sink that keeps what it got, as one stream. */
function memorySink(into: string[]): Sink {
  return {
    closed: false,
    write: (text) => void into.push(typeof text === 'string' ? text : Buffer.from(text).toString()),
    end: async () => {},
    drain: () => undefined,
  } as Sink;
}

function result(out: string[], letters: Array<[at: number, line: number]> = []): ChunkResult {
  const stats = { ...newStats(), in: out.length + letters.length, out: out.length, errors: letters.length };
  const deadLetters: DeadLetter[] = letters.map(([, line]) => ({ source: 'stdin', line, id: line, input: null, error: { name: 'Error', message: 'x' }, attempts: 1, stage: 'map' }));
  return { out, stats, deadLetters, deadLetterAt: letters.map(([at]) => at), failure: undefined, setupFailure: undefined, ms: 0 };
}

/** A result that arrives when `release` is called. */
function later(value: ChunkResult): { promise: Promise<ChunkResult>; release: () => void } {
  let release = (): void => {};
  const promise = new Promise<ChunkResult>((resolve) => (release = () => resolve(value)));
  return { promise, release };
}

test('results are written in input order whatever order they complete in', async () => {
  const written: string[] = [];
  const delivery = new Delivery({ sink: memorySink(written), errorSink: undefined, maxErrors: undefined, ordered: true });
  const first = later(result(['a\n']));
  const second = later(result(['b\n']));
  delivery.add(first.promise, { bytes: 2 }, () => {});
  delivery.add(second.promise, { bytes: 2 }, () => {});
  second.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(written, [], 'nothing before the first chunk');
  first.release();
  await delivery.settle();
  assert.equal(written, ['a\n', 'b\n']);
  assert.is(delivery.stats.out, 2);
  assert.is(delivery.bytesDone, 4);
});

test('--unordered writes in completion order', async () => {
  const written: string[] = [];
  const delivery = new Delivery({ sink: memorySink(written), errorSink: undefined, maxErrors: undefined, ordered: false });
  const first = later(result(['a\n']));
  const second = later(result(['b\n']));
  delivery.add(first.promise, { bytes: 2 }, () => {});
  delivery.add(second.promise, { bytes: 2 }, () => {});
  second.release();
  await new Promise((resolve) => setImmediate(resolve));
  first.release();
  await delivery.settle();
  assert.equal(written, ['b\n', 'a\n']);
});

test('dead letters stand between the output pieces they came between', async () => {
  const both: string[] = [];
  const delivery = new Delivery({ sink: memorySink(both), errorSink: memorySink(both), maxErrors: undefined, ordered: true });
  delivery.add(Promise.resolve(result(['1\n', '2\n', '4\n'], [[2, 3]])), { bytes: 8 }, () => {});
  await delivery.settle();
  assert.equal(both.map((text) => (text.startsWith('{') ? `dead ${JSON.parse(text).line}` : text.trim())), ['1', '2', 'dead 3', '4']);
});

test('--max-errors stops delivery after N failures, and a chunk after the failure is skipped', async () => {
  const written: string[] = [];
  const delivery = new Delivery({ sink: memorySink(written), errorSink: memorySink([]), maxErrors: 2, ordered: true });
  let done = 0;
  delivery.add(Promise.resolve(result(['a\n'], [[1, 2], [1, 3]])), { bytes: 1 }, () => done++);
  delivery.add(Promise.resolve(result(['b\n'])), { bytes: 1 }, () => done++);
  await delivery.settle();
  assert.equal(written, ['a\n']);
  assert.match(String(delivery.failure), /stopped after 2 failed records \(--max-errors 2\)/);
  assert.is(done, 2, 'every chunk is released, delivered or not');
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtinAggregator, parseAggregates } from '../../src/reduce/builtin-aggregates.js';
import { readEventTime } from '../../src/reduce/event-time.js';
import { parseDuration, parseSize } from '../../src/reduce/parse-units.js';
import { ReduceStep, type ReduceStepOptions } from '../../src/reduce/reduce-step.js';
import { parseWindow } from '../../src/reduce/window-spec.js';

test('event time: epoch seconds below 1e11, else epoch ms; ISO-8601 without a zone is UTC', () => {
  const t = Date.UTC(2024, 4, 1, 12, 0, 0);
  assert.is(readEventTime(t), t);
  assert.is(readEventTime(t / 1000), t);
  assert.is(readEventTime(t / 1000 + 0.25), t + 250);
  assert.is(readEventTime(String(t)), t);
  assert.is(readEventTime('1714564800'), t);
  assert.is(readEventTime('2024-05-01T12:00:00Z'), t);
  assert.is(readEventTime('2024-05-01T12:00:00'), t);
  assert.is(readEventTime('2024-05-01 12:00:00.5'), t + 500);
  assert.is(readEventTime('2024-05-01T14:00:00+02:00'), t);
  assert.is(readEventTime('2024-05-01T14:00+02'), t);
  assert.is(readEventTime('2024-05-01'), Date.UTC(2024, 4, 1));
  assert.is(readEventTime(99_999_999_999), 99_999_999_999_000);
  assert.is(readEventTime(100_000_000_000), 100_000_000_000);
  for (const bad of ['yesterday', '', null, undefined, true, {}, '2024-13-01', 'Wed, 01 May 2024 12:00:00 GMT', Infinity]) assert.is(readEventTime(bad), undefined, String(bad));
});

test('durations, sizes and window specs', () => {
  assert.equal(['500ms', '30s', '1m', '1.5h', '2d', '250'].map((d) => parseDuration(d, '--x')), [500, 30_000, 60_000, 5_400_000, 172_800_000, 250]);
  assert.equal(['512MiB', '200MB', '1G', '64k', '1000'].map((s) => parseSize(s, '--x')), [512 * 2 ** 20, 200e6, 2 ** 30, 65536, 1000]);
  assert.throws(() => parseSize('lots', '--max-memory'), /--max-memory takes a size/);
  assert.equal(parseWindow('sliding:1m/10s'), { type: 'sliding', size: 60_000, step: 10_000 });
  assert.equal(parseWindow('count:5'), { type: 'count', size: 5 });
  assert.throws(() => parseWindow('hopping:1m'), /--window takes/);
  assert.throws(() => parseWindow('sliding:1m'), /needs a step/);
});

test('--agg names and order; duplicates and unknown aggregates are usage errors', () => {
  assert.equal(parseAggregates('count,sum:a.b,max:ms').map((spec) => spec.name), ['count', 'sum_a.b', 'max_ms']);
  assert.throws(() => parseAggregates('count,count'), /given twice/);
  assert.throws(() => parseAggregates('median:x'), /unknown aggregate/);
  assert.throws(() => parseAggregates('sum'), /needs a field/);
});

function stepWith(options: Partial<ReduceStepOptions>): ReduceStep {
  return new ReduceStep({
    key: ['k'],
    aggregator: builtinAggregator(parseAggregates('count,sum:n')),
    window: undefined,
    time: undefined,
    lateness: 0,
    late: 'dead-letter',
    maxMemory: 512 * 2 ** 20,
    spillDir: '/tmp',
    retries: 0,
    retryDelay: 0,
    timeout: undefined,
    config: {},
    signal: new AbortController().signal,
    idField: undefined,
    deadLetter: undefined,
    maxErrors: undefined,
    log: () => {},
    ...options,
  });
}

async function drain(step: ReduceStep): Promise<string> {
  let out = '';
  for await (const piece of step.end()) out += piece;
  return out;
}

test('the step interface: push, tick on arrival time, end; state size goes up and back down', async () => {
  const step = stepWith({ window: { type: 'tumbling', size: 1000 } });
  const place = (index: number) => ({ source: 'test', line: index + 1, index });
  step.push({ k: 'a', n: 1 }, place(0), 10_100);
  step.push({ k: 'b', n: 2 }, place(1), 10_200);
  step.push({ k: 'a', n: 3 }, place(2), 10_900);
  assert.ok(step.stateBytes > 0);
  assert.is(step.deadline(), 11_000);
  assert.is(step.tick(10_999), '');
  step.push({ k: 'a', n: 4 }, place(3), 11_500);
  assert.is(
    step.tick(11_000),
    '{"key":{"k":"a"},"window":{"start":10000,"end":11000},"count":2,"sum_n":4}\n{"key":{"k":"b"},"window":{"start":10000,"end":11000},"count":1,"sum_n":2}\n',
  );
  assert.is(await drain(step), '{"key":{"k":"a"},"window":{"start":11000,"end":12000},"count":1,"sum_n":4}\n');
  assert.is(step.stateBytes, 0);
  assert.equal(step.stats, { in: 4, out: 3, dropped: 0, late: 0, errors: 0, retries: 0, spills: 0 });
});

test('a record that fails leaves no trace in its group, and a key first seen on a failing record makes no group', async () => {
  const dead: unknown[] = [];
  const step = stepWith({ deadLetter: (entry) => dead.push(entry) });
  const place = (index: number) => ({ source: 'test', line: index + 1, index });
  step.push({ k: 'a', n: 1 }, place(0));
  step.push({ k: 'a', n: 'x' }, place(1));
  step.push({ k: 'b', n: 'y' }, place(2));
  assert.is(await drain(step), '{"key":{"k":"a"},"count":1,"sum_n":1}\n');
  assert.is(dead.length, 2);
});

test.run();

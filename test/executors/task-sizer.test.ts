import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TaskSizer } from '../../src/executors/task-sizer.js';

const MiB = 1024 * 1024;

test('tasks aim at 50 ms of work from the measured cost, between 4 KiB and the largest', () => {
  const sizer = new TaskSizer(MiB, { workers: 2 });
  assert.is(sizer.next(), 16 * 1024, 'first tasks: 16 KiB');
  // 1 ms per 170-byte record: 50 ms is 8,500 bytes.
  sizer.record(17_000, 100);
  assert.is(sizer.next(), 8500);
  const cheap = new TaskSizer(MiB, { workers: 2 });
  cheap.record(MiB, 10);
  assert.is(cheap.next(), MiB, 'a cheap handler gets the largest tasks');
  const slow = new TaskSizer(MiB, { workers: 2 });
  slow.record(1000, 1000);
  assert.is(slow.next(), 4096, 'a slow one never less than 4 KiB');
});

test('near the end of an input of known size, tasks shrink to what is left over twice the workers, down to 1 KiB', () => {
  const sizer = new TaskSizer(MiB, { workers: 2 });
  sizer.record(17_000, 100);
  assert.is(sizer.next(10 * MiB), 8500, 'far from the end: as measured');
  assert.is(sizer.next(20_000), 5000);
  assert.is(sizer.next(4000), 1024);
  assert.is(sizer.next(0), 1024);
  // A small input reaches every worker from the first tasks: 40 KB over 2 workers.
  assert.is(new TaskSizer(MiB, { workers: 2 }).next(40_000), 10_000);
  assert.is(new TaskSizer(MiB, { workers: 4 }).next(40_000), 5000);
});

test.run();

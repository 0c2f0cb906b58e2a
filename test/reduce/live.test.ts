import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveReduce, waitUntil } from './live-reduce.js';

type Row = Record<string, unknown>;

test('endless input: tumbling:1s windows of arrival time come out while the pipe is still open', async () => {
  const live = new LiveReduce(['--key', 'k', '--agg', 'count', '--window', 'tumbling:1s', '--stats']);
  let writing = true;
  let windowsWhileOpen = 0;
  // A record every 100 ms for 5 s.
  const writer = (async () => {
    for (let n = 0; n < 50; n++) {
      live.write({ k: 'x', n });
      await sleep(100);
    }
    windowsWhileOpen = live.records.length;
    writing = false;
  })();
  try {
    await waitUntil(() => live.records.length >= 3 || !writing, 'three windows');
    assert.ok(writing, 'three windows arrived while the writer was still writing');
    await writer;
    assert.ok(windowsWhileOpen >= 3, `windows before the input ended: ${windowsWhileOpen}`);
    // With no record arriving (the pipe still open), the last window still closes on its timer.
    await waitUntil(() => live.records.reduce((sum, r) => sum + (r.count as number), 0) === 50, 'the last window to close with no input');
    await live.end();
    assert.is(live.status, 0, live.stderr);
    const rows = live.records;
    assert.is(rows.reduce((sum, r) => sum + (r.count as number), 0), 50);
    for (const r of rows) {
      const w = r.window as { start: number; end: number };
      assert.is(w.end - w.start, 1000);
      assert.is(w.start % 1000, 0);
    }
    assert.ok(rows.length >= 5 && rows.length <= 7, `${rows.length} windows over 5 s`);
  } finally {
    live.kill();
  }
});

test('a session of arrival time closes after the gap on a live input, and a record inside the gap extends it', async () => {
  const live = new LiveReduce(['--key', 'k', '--agg', 'count', '--window', 'session:700ms']);
  try {
    // Once a first session has come out, op is reading: arrival times are now the writes' times.
    live.write({ k: 'warm-up' });
    await waitUntil(() => live.records.length === 1, 'the warm-up session');
    live.write({ k: 'a' });
    await sleep(400);
    live.write({ k: 'a' }); // inside the gap: the same session
    await sleep(400);
    live.write({ k: 'a' });
    await waitUntil(() => live.records.length === 2, 'the session to close after the gap');
    const session = live.records[1] as Row;
    assert.is(session.count, 3);
    const w = session.window as { start: number; end: number };
    assert.ok(w.end - w.start >= 1400, `the session spans the three records plus the gap: ${w.end - w.start} ms`);
    live.write({ k: 'a' });
    await live.end();
    assert.equal(live.records.map((r) => r.count), [1, 3, 1]);
  } finally {
    live.kill();
  }
});

test('event time on a live input: a window closes once a newer record moves the watermark past it', async () => {
  const live = new LiveReduce(['--key', 'k', '--agg', 'count', '--window', 'tumbling:1m', '--time', 'ts']);
  try {
    live.write({ k: 'a', ts: '2024-01-01T00:00:10Z' });
    live.write({ k: 'a', ts: '2024-01-01T00:00:20Z' });
    live.write({ k: 'b', ts: '2024-01-01T00:01:05Z' });
    await waitUntil(() => live.records.length === 1, 'the first minute to close');
    assert.equal(live.records[0], { key: { k: 'a' }, window: { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 1, 0, 1) }, count: 2 });
    await live.end();
    assert.is(live.records.length, 2);
  } finally {
    live.kill();
  }
});

test('SIGINT stops reading, and the groups still open are written before exit 130', async () => {
  const live = new LiveReduce(['--key', 'k', '--agg', 'count', '--window', 'count:2']);
  try {
    live.write({ k: 'b' });
    live.write({ k: 'a' });
    live.write({ k: 'a' });
    // a's window of two closes after b was read, so b's open window holds one record.
    await waitUntil(() => live.records.length === 1, "a's window");
    live.signal('SIGINT');
    await live.exited();
    assert.is(live.status, 130, live.stderr);
    assert.equal(live.records, [
      { key: { k: 'a' }, window: { start: 1, end: 3 }, count: 2 },
      { key: { k: 'b' }, window: { start: 0, end: 1 }, count: 1 },
    ]);
  } finally {
    live.kill();
  }
});

test.run();

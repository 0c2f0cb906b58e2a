import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/core/errors.js';
import { parseQueueUrl } from '../../src/queue/queue-url.js';
import { compareIds, idRange } from '../../src/queue/stream-id.js';

test('host, port, database and NAME; keys share the {NAME} hash tag', () => {
  const q = parseQueueUrl('redis://10.0.0.5:6380/3/jobs');
  assert.is(q.server, 'redis://10.0.0.5:6380/3');
  assert.is(q.name, 'jobs');
  assert.equal(q.keys, { in: 'opkit:{jobs}:in', out: 'opkit:{jobs}:out', dead: 'opkit:{jobs}:dead', starts: 'opkit:{jobs}:starts' });
});

test('without a database; the password reaches the client and is hidden when shown', () => {
  const q = parseQueueUrl('redis://app:s3cret@redis.internal/jobs');
  assert.is(q.server, 'redis://app:s3cret@redis.internal');
  assert.is(q.shown, 'redis://app:***@redis.internal/jobs');
  assert.is(parseQueueUrl('rediss://:pw@h:1/0/q').server, 'rediss://:pw@h:1/0');
});

test('bad URLs are usage errors that say what is expected', () => {
  for (const [url, why] of [
    ['jobs', 'not a queue URL'],
    ['http://h/jobs', 'redis://'],
    ['redis://h:6379', 'NAME is missing'],
    ['redis://h:6379/', 'path must be'],
    ['redis://h/x/jobs', 'database must be a number'],
    ['redis://h/1/2/jobs', 'path must be'],
    ['redis://h/a%7Bb', 'braces'],
    ['redis://h/jobs?x=1', 'no ?query'],
  ] as const) {
    try {
      parseQueueUrl(url);
      assert.unreachable(url);
    } catch (error) {
      assert.instance(error, UsageError, url);
      assert.match((error as Error).message, why, url);
    }
  }
});

test('stream ids compare as numbers, not strings', () => {
  assert.is(compareIds('9-0', '10-0'), -1);
  assert.is(compareIds('10-2', '10-10'), -1);
  assert.is(compareIds('10-10', '10-10'), 0);
  assert.is(compareIds('11-0', '10-99'), 1);
  assert.is(compareIds('1700000000000-0', '999999999999-7'), 1);
  assert.is(compareIds('5', '5-0'), 0, 'a bare ms is seq 0');
  assert.is(compareIds('5-0', '5'), 0);
  assert.is(compareIds('5', '5-1'), -1);
  assert.is(compareIds('5-1', '5'), 1);
  assert.is(compareIds('10', '9-9'), 1);
  assert.is(compareIds('1700000000000-3', '1700000000000-12'), -1);
  assert.is(compareIds('1700000000001-0', '1700000000000-12'), 1);
});

test('idRange gives the lowest and the highest id, in any order', () => {
  assert.equal(idRange(['10-2', '9-5', '10-10', '10-0']), ['9-5', '10-10']);
  assert.equal(idRange(['7-1']), ['7-1', '7-1']);
  assert.equal(idRange(['1-0', '1-1', '2-0', '10-0']), ['1-0', '10-0'], 'in order');
  assert.equal(idRange(['10-0', '2-0', '1-1', '1-0']), ['1-0', '10-0'], 'in reverse');
});

test.run();

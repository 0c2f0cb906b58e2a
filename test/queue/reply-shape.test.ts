import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineLua, isTransient, openLink, ReplyMismatchError } from '../../src/queue/redis-client.js';
import { redisCli, SERVER, waitFor } from './redis-scratch.js';

const SAYS_OK = defineLua(`return 'OK'`);
const SAYS_NUMBERS = defineLua(`return {1, 0}`);
const twoNumbers = (reply: unknown): boolean => Array.isArray(reply) && reply.length === 2 && reply.every((n) => typeof n === 'number');

test('a script reply of the wrong shape rejects as transient and the connection is opened again', async () => {
  const name = `reply-shape-${process.pid}`;
  const link = await openLink({ url: SERVER, reconnect: true, name });
  try {
    const before = (await link.send<number>(['CLIENT', 'ID'])) as number;
    const error = await link.run(SAYS_OK, [], [], twoNumbers).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    assert.instance(error, ReplyMismatchError);
    assert.ok(isTransient(error), 'the caller sends it again');
    await link.ready();
    // A new connection, under the same name, that answers in step.
    const after = (await link.send<number>(['CLIENT', 'ID'])) as number;
    assert.is.not(after, before);
    await waitFor('the named connection', async () => (await redisCli(['CLIENT', 'LIST'])).includes(` name=${name} `));
    assert.equal(await link.run(SAYS_NUMBERS, [], [], twoNumbers), [1, 0]);
    assert.is(await link.send(['PING']), 'PONG');
  } finally {
    await link.close();
  }
});

test('a reply of the expected shape is returned as it is, and without a check any reply is', async () => {
  const link = await openLink({ url: SERVER, reconnect: true });
  try {
    assert.equal(await link.run(SAYS_NUMBERS, [], [], twoNumbers), [1, 0]);
    assert.is(await link.run(SAYS_OK, [], []), 'OK');
  } finally {
    await link.close();
  }
});

test.run();

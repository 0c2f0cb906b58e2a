import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, ndjson, runOp } from '../helpers/run-op.js';
import { openLink, type RedisLink } from '../../src/queue/redis-client.js';
import { queueKeys } from '../../src/queue/queue-url.js';
import { entries, waitFor } from './redis-scratch.js';

/**
 * A Redis server of this test's own, on a free port, persisting to an append-only file in
 * a scratch folder: the shared server on 6379 is never restarted.
 */
interface PrivateRedis {
  port: number;
  dir: string;
  server: ChildProcess | undefined;
}

let redis: PrivateRedis | undefined;
const consumers = new Set<ChildProcess>();

test.after.each(async () => {
  for (const child of consumers) child.kill('SIGKILL');
  consumers.clear();
  if (redis) {
    await stopRedis(redis);
    rmSync(redis.dir, { recursive: true, force: true });
    redis = undefined;
  }
});

/** A port nobody listens on now, from 6390 up (a random start, so parallel runs do not collide). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 6390 + Math.floor(Math.random() * 1000);
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      probe.close();
      await once(probe, 'close');
      return port;
    }
  }
  throw new Error('no free port from 6390');
}

/** Starts redis-server on the port and folder, and waits until it answers PING with its data loaded. */
async function startRedis(server: PrivateRedis): Promise<void> {
  const child = spawn('redis-server', ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', server.dir, '--daemonize', 'no'], { stdio: 'ignore' });
  server.server = child;
  await waitFor(`redis-server on port ${server.port}`, async () => {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${server.port} exited with ${child.exitCode}`);
    const link = await openLink({ url: `redis://127.0.0.1:${server.port}`, reconnect: false }).catch(() => undefined);
    if (!link) return false;
    // LOADING while the append-only file is read back.
    const pong = await link.send(['PING']).catch(() => undefined);
    await link.close();
    return pong === 'PONG';
  });
}

/** SIGTERM (Redis writes and closes its append-only file), then waits for the exit. */
async function stopRedis(server: PrivateRedis): Promise<void> {
  const child = server.server;
  server.server = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

test('a Redis restart mid-run: after the drain, :out holds every input id exactly once and nothing is pending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'op-restart-'));
  redis = { port: await freePort(), dir, server: undefined };
  await startRedis(redis);
  const url = `redis://127.0.0.1:${redis.port}/restart`;
  const keys = queueKeys('restart');
  const count = 20_000;
  const pushed = await runOp(['queue', 'push', url], { input: ndjson(Array.from({ length: count }, (_, i) => ({ i }))) });
  assert.is(pushed.status, 0, pushed.stderr);

  // A handler of ~1 ms a record keeps the run going for seconds, so the restart lands mid-run.
  const child = spawn(process.execPath, [OP, 'map', 'new Promise((done) => setTimeout(() => done({ i: r.i }), 1))', '--from', url, '--to', url, '--drain', '--visibility', '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  consumers.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;

  let link: RedisLink = await openLink({ url: `redis://127.0.0.1:${redis.port}`, reconnect: false });
  const outLength = (): Promise<number> => link.send<number>(['XLEN', keys.out]);
  await waitFor('the first results', async () => (await outLength()) >= 500, 30_000);
  const before = await outLength();
  assert.ok(before < count, `the consumer finished before the restart (${before} results)`);
  await link.close();
  await stopRedis(redis);
  await startRedis(redis);
  link = await openLink({ url: `redis://127.0.0.1:${redis.port}`, reconnect: false });
  try {
    assert.ok((await outLength()) >= before, 'the append-only file kept the results written before the restart');
    const [status] = await closed;
    consumers.delete(child);
    assert.is(status, 0, stderr);
    assert.match(stderr, /connection lost/, 'the consumer saw the restart');

    const inputs = (await entries(link, keys.in)).map(([id]) => id);
    assert.is(inputs.length, count);
    const out = await entries(link, keys.out);
    const ins = out.map(([, fields]) => fields.in!);
    assert.is(ins.length, count, 'one result per input, none twice');
    assert.equal([...new Set(ins)].sort(), [...inputs].sort(), 'every input id has its result');
    // Each result is the map of its own input.
    const byId = new Map((await entries(link, keys.in)).map(([id, fields]) => [id, JSON.parse(fields.d!) as { i: number }]));
    for (const [, fields] of out) assert.equal(JSON.parse(fields.d!), { i: byId.get(fields.in!)!.i });
    const [pending] = await link.send<[number]>(['XPENDING', keys.in, 'opkit']);
    assert.is(Number(pending), 0, 'every entry acked');
    assert.is(await link.send<number>(['XLEN', keys.dead]), 0, 'no dead letter');
    assert.is(await link.send<number>(['HLEN', keys.starts]), 0, 'no start count left behind');
  } finally {
    await link.close();
  }
});

test.run();

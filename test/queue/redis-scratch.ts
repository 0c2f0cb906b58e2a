import { randomBytes } from 'node:crypto';
import { runProcess } from '../helpers/run-op.js';
import { openLink, type RedisLink } from '../../src/queue/redis-client.js';
import { queueKeys, type QueueKeys } from '../../src/queue/queue-url.js';

export const SERVER = 'redis://127.0.0.1:6379';

/** A queue of its own for one test: a unique NAME, its keys, a link, and a cleanup. */
export interface ScratchQueue {
  name: string;
  url: string;
  keys: QueueKeys;
  link: RedisLink;
  /** Deletes every key of the queue and closes the link. */
  remove(): Promise<void>;
}

export async function scratchQueue(label: string): Promise<ScratchQueue> {
  const name = `test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const keys = queueKeys(name);
  const link = await openLink({ url: SERVER, reconnect: true });
  return {
    name,
    url: `${SERVER}/${name}`,
    keys,
    link,
    async remove() {
      await link.send(['DEL', keys.in, keys.out, keys.dead, keys.starts]);
      await link.close();
    },
  };
}

/** `redis-cli ARGS…`: another client, as a producer in another language would be. */
export async function redisCli(args: string[]): Promise<string> {
  const result = await runProcess('redis-cli', ['-h', '127.0.0.1', '-p', '6379', ...args]);
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The entries of a stream as [id, {field: value}] pairs. */
export async function entries(link: RedisLink, key: string): Promise<Array<[string, Record<string, string>]>> {
  const raw = await link.send<Array<[string, string[]]>>(['XRANGE', key, '-', '+']);
  return raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return [id, fields];
  });
}

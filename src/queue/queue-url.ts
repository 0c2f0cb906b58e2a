import { UsageError } from '../core/errors.js';

/** A queue named by `redis://[user:pass@]host[:port][/db]/NAME`. */
export interface QueueAddress {
  /** The server part, for the client: `redis://user:pass@host:port/db`. */
  server: string;
  /** The URL as shown to the user, password hidden. */
  shown: string;
  name: string;
  keys: QueueKeys;
}

/**
 * `opkit:{NAME}:…`: the braces are a Redis Cluster hash tag, so every key of a queue lives
 * in one slot and one script may touch them all.
 */
export interface QueueKeys {
  in: string;
  out: string;
  dead: string;
  /** Hash: entry id → handler starts recorded after its first delivery (whose start is implied), for --max-deliveries. */
  starts: string;
}

export function queueKeys(name: string): QueueKeys {
  const base = `opkit:{${name}}`;
  return { in: `${base}:in`, out: `${base}:out`, dead: `${base}:dead`, starts: `${base}:starts` };
}

export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${text}: not a queue URL; expected redis://[user:pass@]host[:port][/db]/NAME`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`${text}: the scheme must be redis:// or rediss://`);
  if (url.search || url.hash) throw new UsageError(`${text}: a queue URL has no ?query or #fragment`);
  const parts = url.pathname.split('/').slice(1);
  if (parts.length > 2 || parts.some((part) => part === '')) throw new UsageError(`${text}: the path must be /NAME or /DB/NAME`);
  const [first, second] = parts;
  const db = second === undefined ? undefined : first;
  const raw = second ?? first;
  if (raw === undefined) throw new UsageError(`${text}: the queue NAME is missing (redis://host:port/NAME)`);
  if (db !== undefined && !/^\d+$/.test(db)) throw new UsageError(`${text}: the database must be a number, as in redis://host/0/NAME`);
  const name = decodeURIComponent(raw);
  // A brace would end the hash tag early and spread the keys over several Cluster slots.
  if (/[{}\s]/.test(name)) throw new UsageError(`${text}: the queue NAME cannot hold braces or whitespace`);
  const auth = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const hostPort = url.host || '127.0.0.1:6379';
  const server = `${url.protocol}//${auth}${hostPort}${db === undefined ? '' : `/${db}`}`;
  const shown = `${url.protocol}//${url.username ? `${url.username}${url.password ? ':***' : ''}@` : url.password ? ':***@' : ''}${hostPort}/${db === undefined ? '' : `${db}/`}${raw}`;
  return { server, shown, name, keys: queueKeys(name) };
}

import { createHash } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';

/**
 * The one door to node-redis. Everything else speaks raw commands (`['XACK', key, …]`)
 * and gets RESP2 replies as plain arrays, strings and numbers, so the client library can
 * be swapped or measured without touching the queue logic.
 */
export interface RedisLink {
  /** One command; commands sent in the same tick go out as one pipeline. */
  send<T = unknown>(args: string[]): Promise<T>;
  /**
   * A Lua script by EVALSHA, loaded with EVAL when the server does not know it (NOSCRIPT).
   * With `expect`, a reply of another shape means the connection's replies no longer match
   * its commands: the connection is dropped and opened again, and the call rejects with a
   * `ReplyMismatchError` (transient: every command in flight is safe to send again).
   */
  run<T = unknown>(script: LuaScript, keys: string[], args: string[], expect?: (reply: unknown) => boolean): Promise<T>;
  /** Resolves when the connection is usable again (at once when it is). */
  ready(): Promise<void>;
  /** Sends QUIT after the commands already sent; never rejects. */
  close(): Promise<void>;
  /** Drops the connection now; commands in flight reject. */
  destroy(): void;
}

export interface LuaScript {
  lua: string;
  sha: string;
}

export function defineLua(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export interface LinkOptions {
  /** `redis://[user:pass@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  /** Reconnect for as long as the link lives (consumers). Off: a lost connection fails what is in flight and every later command. */
  reconnect: boolean;
  /** Told once per lost connection (the client retries on its own). */
  onLost?: (error: Error) => void;
  /** Called each time the connection is back after a loss. */
  onBack?: () => void;
  /** The CLIENT SETNAME shown in CLIENT LIST. */
  name?: string;
}

/**
 * A reply that cannot belong to the command it was matched with. The client pairs replies
 * with commands by order; a write that reaches a socket already closed leaves a command
 * waiting for a reply that never comes, and every later reply goes one command early.
 */
export class ReplyMismatchError extends Error {
  override name = 'ReplyMismatchError';
}

/** Attempts at the first connection: a wrong URL is an error, not an endless wait. */
const FIRST_CONNECT_ATTEMPTS = 3;
/** Longest wait between reconnect attempts; Redis restarts in about a second. */
const MAX_RECONNECT_MS = 2000;

/** Reconnect delay after `retries` failed attempts: 50 ms doubling to 2 s, with jitter. */
export function reconnectDelayMs(retries: number): number {
  const full = Math.min(MAX_RECONNECT_MS, 50 * 2 ** retries);
  return Math.round(full / 2 + Math.random() * (full / 2));
}

export async function openLink(options: LinkOptions): Promise<RedisLink> {
  let connected = false;
  let lostOnce = false;
  // The name is not an option of the client: node-redis builds a client class of ~1,000
  // command methods for each distinct set of options, ~20 MiB of garbage and a grown young
  // generation per class; every link of a process shares one class this way.
  const client = createClient({
    url: options.url,
    // CLIENT SETINFO is Redis 7.2+: on 7.0 each connect would get two error replies, and a
    // reply that goes one command early after a lost connection would hand one of them to a
    // command of ours.
    disableClientInfo: true,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) => {
        if (!connected) return retries + 1 >= FIRST_CONNECT_ATTEMPTS ? cause : reconnectDelayMs(retries);
        return options.reconnect ? reconnectDelayMs(retries) : false;
      },
    },
  });
  client.on('error', (error: Error) => {
    // Reported once per loss; node-redis reconnects by itself (reconnectStrategy).
    if (connected && !lostOnce) {
      lostOnce = true;
      options.onLost?.(error);
    }
  });
  let named: Promise<unknown> | undefined;
  client.on('ready', () => {
    lostOnce = false;
    // Named on every (re)connect, as node-redis would do in its handshake.
    if (options.name !== undefined) named = client.sendCommand(['CLIENT', 'SETNAME', options.name]).catch(() => undefined);
    if (connected) options.onBack?.();
  });
  await client.connect();
  await named;
  connected = true;

  const send = <T>(args: string[]): Promise<T> => client.sendCommand(args) as Promise<T>;
  let backAgain: Promise<void> | undefined;
  let reopening = false;
  /** Drops the connection (every command in flight rejects) and opens a fresh one. */
  const reopen = (): void => {
    if (reopening || !client.isOpen) return;
    reopening = true;
    client.destroy();
    client
      .connect()
      .catch((error: Error) => options.onLost?.(error))
      .finally(() => {
        reopening = false;
      });
  };
  return {
    send,
    async run<T>(script: LuaScript, keys: string[], args: string[], expect?: (reply: unknown) => boolean): Promise<T> {
      const tail = [String(keys.length), ...keys, ...args];
      let reply: T;
      try {
        reply = await send<T>(['EVALSHA', script.sha, ...tail]);
      } catch (error) {
        if (!isReplyError(error, 'NOSCRIPT')) throw error;
        reply = await send<T>(['EVAL', script.lua, ...tail]);
      }
      if (expect && !expect(reply)) {
        reopen();
        throw new ReplyMismatchError(`a reply of the wrong shape (${typeof reply}): the connection was reset`);
      }
      return reply;
    },
    ready(): Promise<void> {
      if (client.isReady) return Promise.resolve();
      // One listener for every command waiting on the same reconnect.
      backAgain ??= new Promise<void>((resolve) => client.once('ready', () => resolve())).finally(() => {
        backAgain = undefined;
      });
      return backAgain;
    },
    async close(): Promise<void> {
      try {
        if (client.isOpen) await client.close();
      } catch {
        client.destroy();
      }
    },
    destroy(): void {
      if (client.isOpen) client.destroy();
    },
  };
}

/** An error the server replied with (NOGROUP, WRONGTYPE…), as opposed to a lost connection. */
export function isReplyError(error: unknown, code?: string): boolean {
  if (!(error instanceof ErrorReply)) return false;
  return code === undefined || error.message.startsWith(`${code} `) || error.message === code;
}

/** Failures of the connection, not of the command: node-redis's socket errors and the system's. */
const CONNECTION_ERRORS = new Set([
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ClientOfflineError',
  'DisconnectsClientError',
  'ReconnectStrategyError',
  'ReplyMismatchError',
]);

/**
 * Worth running again once reconnected: the connection went away, or the server is still
 * loading its data after a restart.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ErrorReply) return /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b/.test(error.message);
  if (!(error instanceof Error)) return false;
  return CONNECTION_ERRORS.has(error.constructor.name) || error instanceof ReplyMismatchError || typeof (error as NodeJS.ErrnoException).code === 'string';
}

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
  /** A Lua script by EVALSHA, loaded with EVAL when the server does not know it (NOSCRIPT). */
  run<T = unknown>(script: LuaScript, keys: string[], args: string[]): Promise<T>;
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
  const client = createClient({
    url: options.url,
    name: options.name,
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
  client.on('ready', () => {
    lostOnce = false;
    if (connected) options.onBack?.();
  });
  await client.connect();
  connected = true;

  const send = <T>(args: string[]): Promise<T> => client.sendCommand(args) as Promise<T>;
  let backAgain: Promise<void> | undefined;
  return {
    send,
    async run<T>(script: LuaScript, keys: string[], args: string[]): Promise<T> {
      const tail = [String(keys.length), ...keys, ...args];
      try {
        return await send<T>(['EVALSHA', script.sha, ...tail]);
      } catch (error) {
        if (!isReplyError(error, 'NOSCRIPT')) throw error;
        return send<T>(['EVAL', script.lua, ...tail]);
      }
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
]);

/**
 * Worth running again once reconnected: the connection went away, or the server is still
 * loading its data after a restart.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ErrorReply) return /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b/.test(error.message);
  if (!(error instanceof Error)) return false;
  return CONNECTION_ERRORS.has(error.constructor.name) || typeof (error as NodeJS.ErrnoException).code === 'string';
}

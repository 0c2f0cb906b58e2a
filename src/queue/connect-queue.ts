import { OpError, describeCause } from '../core/errors.js';
import type { QueueAddress } from './queue-url.js';
import { openLink, type RedisLink } from './redis-client.js';

/** A link for the one-shot `op queue` commands: a connection that fails is reported, not retried. */
export async function connectQueue(address: QueueAddress, name: string): Promise<RedisLink> {
  try {
    return await openLink({ url: address.server, reconnect: false, name });
  } catch (error) {
    const cause = error instanceof Error && 'originalError' in error ? (error as { originalError: unknown }).originalError : error;
    throw new OpError(`${address.shown}: cannot connect: ${describeCause(cause)}`, { cause: error });
  }
}

/** A failed command, named with the queue it was for. */
export function commandFailed(address: QueueAddress, what: string, error: unknown): OpError {
  return error instanceof OpError ? error : new OpError(`${address.shown}: ${what}: ${describeCause(error)}`, { cause: error });
}

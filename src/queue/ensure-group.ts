import { isReplyError, type RedisLink } from './redis-client.js';

/**
 * Creates the consumer group at id 0, so entries pushed before any consumer started are
 * read too, and the stream with it (MKSTREAM). An existing group is kept as it is.
 */
export async function ensureGroup(link: RedisLink, stream: string, group: string): Promise<void> {
  try {
    await link.send(['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM']);
  } catch (error) {
    if (!isReplyError(error, 'BUSYGROUP')) throw error;
  }
}

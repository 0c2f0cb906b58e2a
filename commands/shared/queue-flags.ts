import { Args, Flags } from '@oclif/core';

/** The URL argument of every `op queue` command. */
export const queueArgs = {
  url: Args.string({ required: true, description: 'The queue: redis://[user:pass@]host[:port][/db]/NAME.' }),
};

export const groupFlag = {
  group: Flags.string({ summary: 'Consumer group.', helpValue: 'NAME', default: 'opkit', helpGroup: 'QUEUE' }),
};

export const debugFlag = {
  debug: Flags.boolean({ summary: 'Show stack traces with errors.', helpGroup: 'REPORTING' }),
};

/** The wire format, repeated on every `op queue` page. */
export const WIRE_FORMAT = `A queue is a URL, redis://[user:pass@]host[:port][/db]/NAME (rediss:// for TLS). Its keys are opkit:{NAME}:in (records to process), opkit:{NAME}:out (results) and opkit:{NAME}:dead (dead letters); the braces are a Redis Cluster hash tag, so all keys of a queue live in one slot. Every entry holds one NDJSON line in its field d, so any language enqueues a record with one command: XADD opkit:{NAME}:in * d '{"url":"…"}' (Python: r.xadd("opkit:{jobs}:in", {"d": json.dumps(rec)})). Consumers read in the consumer group opkit (--group) under the name host:pid:rank.`;

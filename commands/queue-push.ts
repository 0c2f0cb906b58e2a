import { Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, queueArgs } from './shared/queue-flags.js';

export default class QueuePushCommand extends OpCommand {
  static override summary = 'Enqueue NDJSON records on a Redis Streams work queue.';
  static override description = `Each record of the input becomes one entry of opkit:{NAME}:in with the field d holding its line as read (a byte-order mark and a CR before the newline dropped; blank lines skipped). Records are added in batches of one read (256 KiB), each batch by one script: whole or not at all, two batches in flight.

A line that is not JSON stops the push with its place, as everywhere in op: stdin:42: SyntaxError: …, exit 1. The records before it are enqueued; it and the ones after it are not. A lost connection stops the push with exit 1; the batches in flight may or may not have been added.

${WIRE_FORMAT}`;
  static override aliases = ['queue-push'];
  static override examples = [
    { description: 'Enqueue a file of jobs.', command: `op queue push redis://127.0.0.1:6379/jobs --in jobs.ndjson` },
    { description: 'Enqueue from a pipe, on database 2 of a server with a password.', command: `$ generate-jobs | op queue push redis://:secret@redis.internal:6379/2/jobs` },
    { description: 'The same command spelled with a hyphen.', command: `op queue-push redis://127.0.0.1:6379/jobs < jobs.ndjson` },
  ];
  static override args = queueArgs;
  static override flags = {
    in: Flags.string({ summary: 'Read NDJSON from FILE instead of stdin; repeatable, read in order; - is stdin.', helpValue: 'FILE', multiple: true, multipleNonGreedy: true, helpGroup: 'INPUT/OUTPUT' }),
    ...debugFlag,
  };
  static override strict = true;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(QueuePushCommand);
    const { runQueuePush } = await import('../src/queue/run-push.js');
    process.exitCode = await runQueuePush({ queue: args.url, inputs: flags.in?.length ? flags.in : ['-'] });
  }
}

import { Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, groupFlag, queueArgs } from './shared/queue-flags.js';

export default class QueuePullCommand extends OpCommand {
  static override summary = 'Write the results of a work queue to stdout, acking what was written.';
  static override description = `Reads opkit:{NAME}:out in the consumer group --group (created at the start of the stream if missing) and writes each entry's d line. Each page of results is acked after it was written: at least once. A pull killed between a write and its ack leaves those entries pending under its consumer name (--consumer, default pull), and the next pull under that name writes them again first; so run one pull per name at a time. Entries of :out also hold in, the id of the input entry they came from.

Without --follow the pull ends when every result so far was written; with it, it waits for new ones until SIGINT or SIGTERM (exit 130 or 143). Acked results stay in :out until op queue trim.

${WIRE_FORMAT}`;
  static override aliases = ['queue-pull'];
  static override examples = [
    { description: 'Collect the results.', command: `op queue pull redis://127.0.0.1:6379/jobs > results.ndjson` },
    { description: 'Stream results as consumers finish them.', command: `op queue pull redis://127.0.0.1:6379/jobs --follow | op filter 'r.ok'` },
    { description: 'Take the results out as NDJSON, with the hyphenated spelling of the command.', command: `op queue-pull redis://127.0.0.1:6379/jobs > results.ndjson` },
  ];
  static override args = queueArgs;
  static override flags = {
    out: Flags.string({ summary: 'Write NDJSON to FILE instead of stdout.', helpValue: 'FILE', helpGroup: 'INPUT/OUTPUT' }),
    follow: Flags.boolean({ char: 'f', summary: 'Keep waiting for new results until SIGINT or SIGTERM.', helpGroup: 'QUEUE' }),
    consumer: Flags.string({ summary: 'Consumer name in the group of :out; a killed pull resumes under it.', helpValue: 'NAME', default: 'pull', helpGroup: 'QUEUE' }),
    ...groupFlag,
    ...debugFlag,
  };
  static override strict = true;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(QueuePullCommand);
    const { runQueuePull } = await import('../src/queue/run-pull.js');
    process.exitCode = await runQueuePull({ queue: args.url, group: flags.group, consumer: flags.consumer, output: flags.out, follow: flags.follow });
  }
}

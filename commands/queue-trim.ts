import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, queueArgs } from './shared/queue-flags.js';

export default class QueueTrimCommand extends OpCommand {
  static override summary = 'Remove the entries of a work queue that every consumer group has acked.';
  static override description = `Trims opkit:{NAME}:in and opkit:{NAME}:out with XTRIM MINID, at the oldest entry some consumer group still needs: its oldest pending entry, or the first one it has not read yet. Pending and undelivered entries are never removed (XTRIM MAXLEN would count from the newest entry and could cut them). The bound and the trim happen in one script. A stream that no group reads is left alone. Prints {"in":N,"out":M}, the entries removed from each.

${WIRE_FORMAT}`;
  static override aliases = ['queue-trim'];
  static override examples = [
    { description: 'Free the memory of finished work.', command: `op queue trim redis://127.0.0.1:6379/jobs` },
    { description: 'Remove the entries every group is done with, with the hyphenated spelling.', command: `op queue-trim redis://127.0.0.1:6379/jobs` },
  ];
  static override args = queueArgs;
  static override flags = debugFlag;
  static override strict = true;

  async run(): Promise<void> {
    const { args } = await this.parse(QueueTrimCommand);
    const { runQueueTrim } = await import('../src/queue/run-trim.js');
    process.exitCode = await runQueueTrim({ queue: args.url });
  }
}

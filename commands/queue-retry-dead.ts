import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, queueArgs } from './shared/queue-flags.js';

export default class QueueRetryDeadCommand extends OpCommand {
  static override summary = 'Move the dead letters of a work queue back to its input.';
  static override description = `Each entry of opkit:{NAME}:dead is added to opkit:{NAME}:in as a new entry holding the same line (so its handler starts count from 0 again) and removed from :dead, both in one script per page of 1,000. Prints {"retried":N}.

${WIRE_FORMAT}`;
  static override aliases = ['queue-retry-dead'];
  static override examples = [
    { description: 'After fixing the handler, run the failures again.', command: `op queue retry-dead redis://127.0.0.1:6379/jobs` },
    { description: 'Put the dead letters back on the queue, with the hyphenated spelling.', command: `op queue-retry-dead redis://127.0.0.1:6379/jobs` },
  ];
  static override args = queueArgs;
  static override flags = debugFlag;
  static override strict = true;

  async run(): Promise<void> {
    const { args } = await this.parse(QueueRetryDeadCommand);
    const { runQueueRetryDead } = await import('../src/queue/run-dead.js');
    process.exitCode = await runQueueRetryDead({ queue: args.url });
  }
}

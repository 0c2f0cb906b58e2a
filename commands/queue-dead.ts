import { Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, queueArgs } from './shared/queue-flags.js';

export default class QueueDeadCommand extends OpCommand {
  static override summary = 'Print the dead letters of a work queue as NDJSON.';
  static override description = `A record lands in opkit:{NAME}:dead when its handler failed past --retries, or was started --max-deliveries times without finishing (a crash), or when its entry has no field d. Each dead letter is printed as one line, oldest first: {"id":<input entry id>,"input":<the record>,"error":{"name","message"},"starts":N,"consumer":"host:pid:rank","deadId":<dead entry id>}. A stored line that is not JSON is printed as a JSON string. Reading does not remove them; op queue retry-dead moves them back.

${WIRE_FORMAT}`;
  static override aliases = ['queue-dead'];
  static override examples = [
    { description: 'What failed, and why?', command: `op queue dead redis://127.0.0.1:6379/jobs | op map '({id: r.id, error: r.error.message})'` },
    { description: 'The dead letters, with the hyphenated spelling.', command: `op queue-dead redis://127.0.0.1:6379/jobs > dead.ndjson` },
  ];
  static override args = queueArgs;
  static override flags = {
    out: Flags.string({ summary: 'Write NDJSON to FILE instead of stdout.', helpValue: 'FILE', helpGroup: 'INPUT/OUTPUT' }),
    ...debugFlag,
  };
  static override strict = true;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(QueueDeadCommand);
    const { runQueueDead } = await import('../src/queue/run-dead.js');
    process.exitCode = await runQueueDead({ queue: args.url, output: flags.out });
  }
}

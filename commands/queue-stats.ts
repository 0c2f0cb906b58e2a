import { OpCommand } from './base-command.js';
import { WIRE_FORMAT, debugFlag, groupFlag, queueArgs } from './shared/queue-flags.js';

export default class QueueStatsCommand extends OpCommand {
  static override summary = 'Print the state of a work queue as one JSON line.';
  static override description = `Fields: queue and group; length (entries in :in, acked ones included until op queue trim); pending (delivered to a consumer of the group and not acked yet); delivered (entries the group has read); lag (entries not yet delivered; null when Redis cannot tell, after an XDEL); dead (entries in :dead); out (entries in :out); oldestPendingAgeMs (how long ago the oldest pending entry was added, by the server's clock; null when none is pending); consumers (name host:pid:rank, pending, idleMs since its last read or claim; a consumer's heartbeat counts).

${WIRE_FORMAT}`;
  static override aliases = ['queue-stats'];
  static override examples = [
    { description: 'How far along is the queue?', command: `op queue stats redis://127.0.0.1:6379/jobs` },
    { description: 'Watch it drain.', command: `$ watch -n1 op queue stats redis://127.0.0.1:6379/jobs` },
    { description: "The queue's counts, with the hyphenated spelling.", command: `op queue-stats redis://127.0.0.1:6379/jobs` },
  ];
  static override args = queueArgs;
  static override flags = { ...groupFlag, ...debugFlag };
  static override strict = true;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(QueueStatsCommand);
    const { runQueueStats } = await import('../src/queue/run-stats.js');
    process.exitCode = await runQueueStats({ queue: args.url, group: flags.group });
  }
}

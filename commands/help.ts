import { Args, Help } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { reportUnknownCommand } from './shared/command-not-found.js';

/** `op help` and `op help map`, as git and npm users type them; the same text as --help. */
export default class HelpCommand extends OpCommand {
  static override summary = 'Show help for op, or for COMMAND.';
  // Not listed in `op --help`, being another spelling of --help; it has a man page (op-help.1).
  static override hidden = true;
  static override strict = false;
  static override examples = [
    { description: 'The same page as op map --help.', command: 'op help map' },
    { description: 'Every command, with a line each.', command: 'op help' },
  ];
  static override args = {
    command: Args.string({ required: false, description: 'The command to explain.' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const words = argv as string[];
    if (words[0] !== undefined && !this.config.findCommand(words[0])) return reportUnknownCommand(words[0], this.config);
    await new Help(this.config).showHelp(words);
  }
}

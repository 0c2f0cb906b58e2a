import { Args, Help } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { reportUnknownCommand } from './shared/command-not-found.js';

/** `op help` and `op help map`, as git and npm users type them; the same text as --help. */
export default class HelpCommand extends OpCommand {
  static override summary = 'Show help for op, or for COMMAND.';
  // Listed neither in `op --help` nor in the man pages: it is another spelling of --help.
  static override hidden = true;
  static override strict = false;
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

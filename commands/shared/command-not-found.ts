import type { Hook, Interfaces } from '@oclif/core';
import { suggestName } from './suggest-name.js';

/**
 * oclif's command_not_found hook: `op mpa r` gets `unknown command mpa; did you mean
 * map?` and exit 2, in the same shape as every other usage error, instead of oclif's
 * ` ›   Error: command mpa:r not found`.
 */
export const commandNotFound: Hook.CommandNotFound = async ({ id, config }) => {
  // oclif joins the words it could not match into one id: `mpa:r`.
  reportUnknownCommand(id.split(':')[0] ?? id, config);
};

export function reportUnknownCommand(word: string, config: Interfaces.Config): void {
  const names = config.commands.filter((command) => !command.hidden).map((command) => command.id);
  const guess = suggestName(word, names);
  process.stderr.write(`op: unknown command ${word}${guess ? `; did you mean ${guess}?` : ''}\nSee op --help\n`);
  process.exitCode = 2;
}

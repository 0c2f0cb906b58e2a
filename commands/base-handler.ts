import { Command, Interfaces } from '@oclif/core';
import { handlerFlags } from './shared-flags.js';

type HandlerFlags = Interfaces.InferredFlags<typeof handlerFlags>;

/**
 * What `op map`, `op filter` and `op slice` share: parse flags, build one options object,
 * hand it to the engine, and turn its outcome into an exit status. The engine and the
 * handler machinery load only here, inside run(), to keep start-up light.
 */
export abstract class HandlerCommand extends Command {
  static override strict = true;
  protected abstract readonly kind: 'map' | 'filter' | 'slice';
  private debugErrors = false;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof HandlerCommand);
    this.debugErrors = flags.debug;
    const { runHandlerCommand } = await import('../src/cli/run-handler-command.js');
    process.exitCode = await runHandlerCommand(`op ${this.kind}`, this.kind, args.handler as string | undefined, flags as HandlerFlags);
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    if (error.oclif) throw error;
    const { reportError } = await import('../src/cli/report-error.js');
    reportError(error, `op ${this.kind}`, this.debugErrors);
  }
}

import { Command, Interfaces } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { handlerFlags } from './shared-flags.js';

type HandlerFlags = Interfaces.InferredFlags<typeof handlerFlags>;

/**
 * What every handler command (`op map`, `op filter`, `op slice`, `op batch`) shares: parse flags, build one options object,
 * hand it to the engine, and turn its outcome into an exit status. The engine and the
 * handler machinery load only here, inside run(), to keep start-up light.
 */
export abstract class HandlerCommand extends Command {
  static override strict = true;
  protected abstract readonly kind: 'map' | 'filter' | 'slice' | 'batch';
  /** op slice flattens and op batch groups without one; the others need it. */
  protected readonly handlerOptional: boolean = false;
  private debugErrors = false;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof HandlerCommand);
    this.debugErrors = flags.debug;
    if (args.handler === undefined && !this.handlerOptional) {
      throw new UsageError(`missing HANDLER: an expression, a function or a module path`);
    }
    const { runHandlerCommand } = await import('../src/cli/run-handler-command.js');
    process.exitCode = await runHandlerCommand(`op ${this.kind}`, this.kind, args.handler as string | undefined, flags as HandlerFlags);
  }

  /** Our errors and oclif's flag errors alike: one compiler-style report, and the exit status. */
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<void> {
    const { reportError } = await import('../src/cli/report-error.js');
    const usage = error.oclif !== undefined || error instanceof UsageError;
    const reported = error.oclif ? new UsageError(error.message.replace(/\s*See more help with --help\s*$/, '').replace(/\s*\n\s*/g, ' ').trim()) : error;
    reportError(reported, `op ${this.kind}`, this.debugErrors);
    if (usage) process.stderr.write(`See op ${this.kind} --help\n`);
  }
}

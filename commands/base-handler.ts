import type { Interfaces } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { OpCommand } from './base-command.js';
import type { handlerFlags } from './base-flags.js';

type HandlerFlags = Interfaces.InferredFlags<typeof handlerFlags>;

/**
 * What every handler command (`op map`, `op filter`, `op slice`, `op batch`) shares: parse flags, build one options object,
 * hand it to the engine, and turn its outcome into an exit status. The engine and the
 * handler machinery load only here, inside run(), to keep start-up light.
 */
export abstract class HandlerCommand extends OpCommand {
  static override strict = true;
  protected abstract readonly kind: 'map' | 'filter' | 'slice' | 'batch';
  /** op slice flattens and op batch groups without one; the others need it. */
  protected readonly handlerOptional: boolean = false;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof HandlerCommand);
    if (args.handler === undefined && !this.handlerOptional) {
      throw new UsageError(`missing HANDLER: an expression, a function or a module path`);
    }
    const { runHandlerCommand } = await import('../src/cli/run-handler-command.js');
    process.exitCode = await runHandlerCommand(`op ${this.kind}`, this.kind, args.handler as string | undefined, flags as HandlerFlags);
  }

}

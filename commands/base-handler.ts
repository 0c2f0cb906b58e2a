import type { Interfaces } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { OpCommand, leaveWhenDone } from './base-command.js';
import type { handlerFlags } from './base-flags.js';
import { RUN_FLAGS, isChain, splitSteps, type StepCommand } from './shared/chain-words.js';

type HandlerFlags = Interfaces.InferredFlags<typeof handlerFlags>;

/** The command class of each step name; set by commands/index.ts, which knows them all. */
export const STEP_CLASSES: Partial<Record<StepCommand, typeof HandlerCommand>> = {};

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
    if (isChain(this.argv)) return this.runChain(this.kind, this.argv);
    // Everything after the first `--` is the handler's command, untouched by flag parsing.
    const cut = this.argv.indexOf('--');
    const command = cut < 0 ? undefined : this.argv.slice(cut + 1);
    const { args, flags } = await this.parse(this.constructor as typeof HandlerCommand, cut < 0 ? this.argv : this.argv.slice(0, cut));
    if (command !== undefined) {
      if (command.length === 0) throw new UsageError('missing COMMAND after --');
      if (args.handler !== undefined) throw new UsageError(`give HANDLER or a command after --, not both (HANDLER: ${args.handler})`);
    } else if (args.handler === undefined && !this.handlerOptional) {
      throw new UsageError(`missing HANDLER: an expression, a function, a module path, or a command after --`);
    }
    const { runHandlerCommand } = await import('../src/cli/run-handler-command.js');
    process.exitCode = await runHandlerCommand(`op ${this.kind}`, this.kind, args.handler as string | undefined, flags as HandlerFlags, undefined, command);
    leaveWhenDone();
  }

  /**
   * `op map A then filter B …`: each step's words parsed with its own command's flags; the
   * run's flags (RUN_FLAGS) may be written with any step, once.
   */
  protected async runChain(first: string, argv: readonly string[]): Promise<void> {
    await this.runSteps(`op ${first}`, splitSteps(first, argv));
  }

  /** The steps of a chain, each its command's name and its words; a step's words after `--` are its child's argv. */
  protected async runSteps(name: string, split: Array<{ command: StepCommand; argv: string[] }>, rest: readonly string[] = []): Promise<void> {
    const steps = [];
    const runFlags: Record<string, unknown> = {};
    const givenAt = new Map<string, number>();
    for (const [k, step] of split.entries()) {
      const Class = STEP_CLASSES[step.command]!;
      const cut = step.argv.indexOf('--');
      const command = cut < 0 ? undefined : step.argv.slice(cut + 1);
      // Run flags written after op chain FILE go with the last step.
      const words = [...(cut < 0 ? step.argv : step.argv.slice(0, cut)), ...(k === split.length - 1 ? rest : [])];
      const { args, flags, raw } = await this.parse(Class, words);
      if (command !== undefined && command.length === 0) throw new UsageError(`step ${k + 1} (${step.command}): missing COMMAND after --`);
      if (command !== undefined && args.handler !== undefined) throw new UsageError(`step ${k + 1} (${step.command}): give HANDLER or a command after --, not both (HANDLER: ${args.handler})`);
      if (command === undefined && args.handler === undefined && step.command !== 'slice' && step.command !== 'batch') throw new UsageError(`step ${k + 1} (${step.command}): missing HANDLER`);
      for (const token of raw) {
        if (token.type !== 'flag' || !RUN_FLAGS.has(token.flag)) continue;
        const before = givenAt.get(token.flag);
        if (before !== undefined && before !== k) throw new UsageError(`--${token.flag} is given twice (steps ${before + 1} and ${k + 1}); a run flag is given once, with any step`);
        givenAt.set(token.flag, k);
        runFlags[token.flag] = (flags as Record<string, unknown>)[token.flag];
      }
      steps.push({ kind: step.command, handlerText: args.handler as string | undefined, flags: flags as HandlerFlags, argv: command });
    }
    const { runChainCommand } = await import('../src/cli/run-handler-command.js');
    process.exitCode = await runChainCommand(name, steps, { ...steps[0]!.flags, ...runFlags } as HandlerFlags);
    leaveWhenDone();
  }
}

import { Command } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { FlagValueError, describeParseError } from './shared/parse-errors.js';

/**
 * What every `op` command shares: one compiler-style report for our errors and oclif's
 * flag errors alike, and the exit status (2 for usage). Stack traces only with --debug.
 */
export abstract class OpCommand extends Command {
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<void> {
    const { reportError } = await import('../src/io/report-error.js');
    // `queue:push` is oclif's id for what the user typed as `op queue push`.
    const name = `op ${(this.id ?? '').replace(/:/g, ' ')}`.trim();
    // A FlagValueError reaches here with oclif's `Parsing --flag` wrapped around its message.
    const fromParser = error.oclif !== undefined || error instanceof FlagValueError;
    const usage = fromParser || error instanceof UsageError;
    const reported = fromParser ? new UsageError(describeParseError(error, this.ctor.flags ?? {})) : error;
    // Only this command's own words count: after `--` they belong to op watch's COMMAND.
    const cut = this.argv.indexOf('--');
    reportError(reported, name, (cut < 0 ? this.argv : this.argv.slice(0, cut)).includes('--debug'));
    if (usage) process.stderr.write(`See ${name} --help\n`);
  }
}

/**
 * The run is over (output written, teardown done): what a handler left behind on the main
 * thread (a timer of a call given up on, an open socket) must not hold op. A process with
 * nothing left ends on its own first; otherwise it ends GRACE_MS later, once stdout and
 * stderr have handed every queued byte to the system (a slow reader of a pipe may take a
 * while; exiting before would lose them).
 */
const GRACE_MS = 100;
/** Taken before a run replaces process.exit for its handler (guard-process.ts). */
const exit = process.exit.bind(process);
export function leaveWhenDone(): void {
  setTimeout(async () => {
    // Loaded by the run already (its output sink): not a module every command's start-up pays for.
    const { untilWritten } = await import('../src/io/until-written.js');
    await Promise.all([untilWritten(process.stdout), untilWritten(process.stderr)]);
    exit();
  }, GRACE_MS).unref();
}

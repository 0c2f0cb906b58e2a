import { OpError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { formatError } from '../core/format-error.js';

/** The one place a failure reaches the user: one report on stderr, and the exit status. */
export function reportError(error: unknown, command: string, debug: boolean): void {
  process.stderr.write(formatError(error, command, debug));
  process.exitCode = error instanceof OpError ? error.exitCode : EXIT.failed;
}

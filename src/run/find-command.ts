import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../core/errors.js';

/**
 * Checks that COMMAND can be started, before any worker is: a missing program is a usage
 * error (exit 2) once, not N workers failing with 127 and a restart policy retrying them.
 * A name without a slash is looked up in PATH, as execvp(3) does.
 */
export function checkCommand(file: string, env: NodeJS.ProcessEnv): void {
  if (file.includes('/')) {
    if (!isExecutable(file)) throw new UsageError(`cannot run ${JSON.stringify(file)}: not an executable file`);
    return;
  }
  const dirs = (env.PATH ?? '').split(delimiter).map((dir) => dir || '.');
  if (!dirs.some((dir) => isExecutable(join(dir, file)))) throw new UsageError(`cannot find ${JSON.stringify(file)} in PATH`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

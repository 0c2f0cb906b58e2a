import { fstatSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../core/errors.js';

/**
 * Refuses a run that would read a file it also writes, before anything is opened: opening
 * the output truncates it, so `--in F --out F` would read an empty F and exit 0, and
 * `op merge 'out.*' > out.all` would read its own output as it grows. The test is cat's:
 * the same device and inode, so a symlink, `./F`, a hard link or a shell redirection of
 * fd 1 into an input are all caught. Only regular files count: a terminal or /dev/null on
 * both sides is no trap.
 *
 * `inputs`: paths, `-` for stdin (fd 0). `outputs`: paths; `undefined`, `-` and
 * /dev/stdout mean fd 1, /dev/stderr fd 2. Paths that do not exist yet cannot be an input.
 */
export function refuseSameFile(inputs: readonly string[], outputs: ReadonlyArray<string | undefined>): void {
  const written = new Map<string, string>();
  for (const output of outputs) {
    const stats = statOutput(output);
    if (stats?.isFile()) written.set(identity(stats), output ?? '-');
  }
  if (written.size === 0) return;
  for (const input of inputs) {
    const stats = input === '-' ? fstatOrUndefined(0) : statOrUndefined(input);
    if (stats?.isFile() && written.has(identity(stats))) {
      throw new UsageError(`${input === '-' ? 'stdin' : input}: input file is also the output file`);
    }
  }
}

function statOutput(output: string | undefined): Stats | undefined {
  if (output === undefined || output === '-' || output === '/dev/stdout') return fstatOrUndefined(1);
  if (output === '/dev/stderr') return fstatOrUndefined(2);
  return statOrUndefined(output);
}

function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** Follows symlinks: a link to the input is the input. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    // Missing or unreadable: the open that follows reports it.
    return undefined;
  }
}

function fstatOrUndefined(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    // A closed descriptor: nothing to compare.
    return undefined;
  }
}

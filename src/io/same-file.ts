import { fstatSync, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
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

/**
 * Refuses `--errors` that names the output file, before either is opened: two descriptors
 * on one file, each truncating it and writing at its own offset, tear both streams into one
 * file. Compared by device and inode when the file exists (so `./F`, a symlink, a hard link
 * or fd 1 redirected into it are caught), else by the path it would be created at (symlinks
 * followed). `-`, /dev/stdout and /dev/stderr are the process's own streams, shared rather
 * than opened again, so `--errors /dev/stdout` beside stdout is one stream and allowed.
 */
export function refuseSameOutput(output: string | undefined, errors: string | undefined): void {
  if (errors === undefined) return;
  const a = outputIdentity(output);
  const b = outputIdentity(errors);
  if (a === undefined || b === undefined || (a.fd !== undefined && a.fd === b.fd)) return;
  if (a.file === b.file) throw new UsageError(`--errors ${errors}: the errors file is also the output file`);
}

/** `fd`: the process's own stream it is written to, if so; `file`: the file under it, when one would be written. */
function outputIdentity(path: string | undefined): { fd?: number; file: string } | undefined {
  const fd = path === undefined || path === '-' || path === '/dev/stdout' ? 1 : path === '/dev/stderr' ? 2 : undefined;
  if (fd !== undefined) {
    const stats = fstatOrUndefined(fd);
    return stats?.isFile() ? { fd, file: identity(stats) } : undefined;
  }
  const stats = statOrUndefined(path!);
  if (stats) return stats.isFile() ? { file: identity(stats) } : undefined;
  const target = pathToCreate(path!);
  return target === undefined ? undefined : { file: `path:${target}` };
}

/** Where opening `path` for writing would create a file: its folder's real path and name, through symlinks that point nowhere yet. */
function pathToCreate(path: string, depth = 0): string | undefined {
  try {
    if (depth < MAX_LINKS && lstatSync(path).isSymbolicLink()) return pathToCreate(resolve(dirname(path), readlinkSync(path)), depth + 1);
  } catch {
    // Nothing there yet.
  }
  try {
    return resolve(realpathSync(dirname(path)), basename(path));
  } catch {
    // A missing folder: the open that follows reports it.
    return undefined;
  }
}

/** Linux's limit on symlinks followed in one path lookup (ELOOP beyond it). */
const MAX_LINKS = 40;

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

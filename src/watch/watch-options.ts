import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { DEFAULT_MATCH } from './ignore-rules.js';
import type { OnBusy } from './path-scheduler.js';

/** What `op watch` does with each file version. */
export type WatchMode = 'command' | 'events' | 'records';

export interface WatchOptions {
  dirs: string[];
  mode: WatchMode;
  /** COMMAND and its ARGS (mode `command`). */
  command: string[];
  match: RegExp[];
  ignore: RegExp[];
  depth: number;
  /** Descend into symlinked directories (cycles never). */
  followSymlinks: boolean;
  settle: number;
  debounce: number;
  concurrency: number;
  onBusy: OnBusy;
  state: string | undefined;
  initial: boolean;
  retries: number;
  retryDelay: number;
  stopTimeout: number;
  log: string | undefined;
}

/** The flags commands/watch.ts parses, by their flag names. */
export interface WatchFlags {
  match?: string[] | undefined;
  ignore?: string[] | undefined;
  depth: number;
  'follow-symlinks': boolean;
  settle: number;
  debounce: number;
  concurrency: number;
  'on-busy': OnBusy;
  state?: string | undefined;
  initial: boolean;
  records: boolean;
  retries: number;
  'retry-delay': number;
  'stop-timeout': number;
  log?: string | undefined;
}

/**
 * Flags, DIRs and COMMAND → one options object, or a usage error naming what is wrong,
 * before anything is watched or run.
 */
export function resolveWatchOptions(dirs: string[], command: string[] | undefined, flags: WatchFlags): WatchOptions {
  if (dirs.length === 0) throw new UsageError('missing DIR: the directory to watch');
  for (const dir of dirs) checkDirectory(dir);
  if (command !== undefined && command.length === 0) throw new UsageError('missing COMMAND after --');
  if (command !== undefined && flags.records) throw new UsageError('--records streams the records themselves: it takes no COMMAND');
  if (command === undefined && flags.log !== undefined) throw new UsageError('--log records runs of a COMMAND: give one after --');
  return {
    dirs,
    mode: command !== undefined ? 'command' : flags.records ? 'records' : 'events',
    command: command ?? [],
    match: flags.match?.length ? flags.match.map((text) => compile('--match', text)) : [DEFAULT_MATCH],
    ignore: (flags.ignore ?? []).map((text) => compile('--ignore', text)),
    depth: flags.depth,
    followSymlinks: flags['follow-symlinks'],
    settle: flags.settle,
    debounce: flags.debounce,
    // Events and records go to one stdout: one file at a time keeps each file's lines together.
    concurrency: command !== undefined ? flags.concurrency : 1,
    onBusy: flags['on-busy'],
    state: flags.state,
    initial: flags.initial,
    retries: flags.retries,
    retryDelay: flags['retry-delay'],
    stopTimeout: flags['stop-timeout'],
    log: flags.log,
  };
}

/** Directories only: an editor saving a watched file by rename would end a file watch. */
function checkDirectory(dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${dir}: no such directory` : `${dir}: cannot watch: ${code ?? (error as Error).message}`);
  }
  if (!isDirectory) throw new UsageError(`${dir}: not a directory (watch the directory it is in, with --match)`);
}

function compile(flag: string, text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw new UsageError(`${flag} ${text}: ${(error as Error).message}`);
  }
}

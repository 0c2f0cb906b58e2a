import { basename, dirname, extname } from 'node:path';

export type WatchEvent = 'add' | 'change';

/** The words a COMMAND can use, each filled in as (part of) one argv word. */
export interface Placeholders {
  path: string;
  name: string;
  stem: string;
  dir: string;
  event: WatchEvent;
}

const TOKEN = /\{(path|name|stem|dir|event)\}/g;

export function placeholdersFor(path: string, event: WatchEvent): Placeholders {
  const name = basename(path);
  return { path, name, stem: name.slice(0, name.length - extname(name).length), dir: dirname(path), event };
}

export function usesPlaceholders(command: readonly string[]): boolean {
  return command.some((word) => new RegExp(TOKEN.source).test(word));
}

/**
 * The argv of one run. Each word stays one word whatever the file is called (spaces,
 * quotes, `$`, newlines): nothing passes through a shell. Without a placeholder the path
 * is appended, as `xargs` and `entr` do.
 */
export function expandCommand(command: readonly string[], values: Placeholders): string[] {
  // A replacer function, so a `$&` in a file name is not read as a replacement pattern.
  const argv = command.map((word) => word.replace(TOKEN, (_, key: keyof Placeholders) => values[key]));
  if (!usesPlaceholders(command)) argv.push(values.path);
  return argv;
}

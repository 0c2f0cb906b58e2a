import type { Stats } from 'node:fs';

/**
 * What makes a file's content this one and not another: a rename-on-save gives a new
 * inode, an in-place write a new size or mtime. One run per version, never per event.
 */
export interface FileVersion {
  size: number;
  mtimeMs: number;
  ino: number;
  /** The device of `ino`; absent from state files written before it was recorded. */
  dev?: number | undefined;
}

export function versionOf(stats: Stats): FileVersion {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev };
}

export function isSameVersion(a: FileVersion | undefined, b: FileVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && (a.dev === undefined || b.dev === undefined || a.dev === b.dev);
}

/** The file whatever path leads to it (hard links, symlinks, a directory reached twice). */
export function identityOf(version: FileVersion): string | undefined {
  return version.dev === undefined ? undefined : `${version.dev}:${version.ino}`;
}

import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Stats } from 'node:fs';

/** `.ndjson`, `.jsonl`, `.json`: the files op reads. */
export const DEFAULT_MATCH = /\.(ndjson|jsonl|json)$/;

/**
 * Files editors make next to the one being saved: dotfiles (vim's `.x.swp`, emacs' `.#x`),
 * backups `x~`, swap files `*.sw?`, and vim's write probe, `4913`, then `5036`, `5159`, …
 * when taken (vim's fileio.c: `for (i = 4913; ; i += 123)`).
 */
export function isEditorArtifact(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('~') || /\.sw.$/.test(name)) return true;
  if (!/^\d{4,9}$/.test(name)) return false;
  const n = Number(name);
  return n >= 4913 && (n - 4913) % 123 === 0;
}

export interface PathRules {
  /** A file is chosen when one of these finds a match in its path relative to its DIR. */
  match: RegExp[];
  /** A file or directory is skipped when one of these finds a match in that relative path. */
  ignore: RegExp[];
}

/**
 * Decides, for every path under the watched directories, whether it is a file to process.
 * Rules look at the path relative to its DIR, so watching `~/.cache/in` is not "a dotfile"
 * and `--ignore '^done/'` means the same wherever op is started from.
 */
export class PathFilter {
  private readonly roots: string[];
  private readonly own: Set<string>;

  /** `ownFiles`: op watch's own outputs (--state, --log), never inputs even inside a DIR. */
  constructor(roots: string[], private readonly rules: PathRules, ownFiles: string[] = []) {
    // Longest first, so a DIR nested in another DIR owns its own files.
    this.roots = roots.map((root) => resolve(root)).sort((a, b) => b.length - a.length);
    this.own = new Set(ownFiles.map((path) => resolve(path)));
  }

  /** The path relative to the DIR holding it, with `/` separators; undefined when outside every DIR. */
  relativePath(path: string): string | undefined {
    const full = resolve(path);
    for (const root of this.roots) {
      const rel = relative(root, full);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return rel.split(sep).join('/');
    }
    return undefined;
  }

  /** For chokidar's `ignored`: called for directories and files, with or without their stats. */
  skips(path: string, stats?: Stats): boolean {
    const rel = this.relativePath(path);
    if (rel === undefined) return true;
    if (rel === '') return false;
    if (this.own.has(resolve(path))) return true;
    if (rel.split('/').some(isEditorArtifact)) return true;
    // A directory is also tried as `rel/`, so `--ignore '^done/'` keeps op out of done/ itself.
    const asDirectory = stats?.isFile() === true ? rel : `${rel}/`;
    if (this.rules.ignore.some((re) => re.test(rel) || re.test(asDirectory))) return true;
    return stats?.isFile() === true && !this.rules.match.some((re) => re.test(rel));
  }

  /** A regular file's path that passes every rule. */
  wants(path: string): boolean {
    const rel = this.relativePath(path);
    if (rel === undefined || rel === '' || this.own.has(resolve(path))) return false;
    if (rel.split('/').some(isEditorArtifact)) return false;
    if (this.rules.ignore.some((re) => re.test(rel))) return false;
    return this.rules.match.some((re) => re.test(rel));
  }
}

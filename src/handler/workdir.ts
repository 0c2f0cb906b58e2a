import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';

/** Longest directory name made from a record id; longer ids keep a prefix and a hash. */
const MAX_SEGMENT = 120;

/**
 * One path segment for a record id. Anything outside `[A-Za-z0-9_-]` (including `.`, `/`
 * and `\`) is percent-encoded, so no id can name `..`, a hidden file or a subdirectory.
 */
export function idSegment(id: unknown): string {
  const text = typeof id === 'string' ? id : JSON.stringify(id) ?? String(id);
  let seg = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    seg += /[A-Za-z0-9_-]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  if (seg === '') seg = '%';
  if (seg.length > MAX_SEGMENT) {
    seg = seg.slice(0, MAX_SEGMENT - 17) + '~' + createHash('sha256').update(text).digest('hex').slice(0, 16);
  }
  return seg;
}

/** Creates `root/<id>` (or `root/<id>.<index>` when two records share an id) and returns it. */
export async function makeWorkdir(root: string, id: unknown, index: number): Promise<string> {
  const base = resolve(root);
  const seg = idSegment(id);
  for (const name of [seg, `${seg}.${index}`]) {
    const dir = join(base, name);
    const rel = relative(base, dir);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`record id ${JSON.stringify(id)} escapes the workdir`);
    try {
      await mkdir(dir, { recursive: false });
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        await mkdir(base, { recursive: true });
        await mkdir(dir);
        return dir;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`workdir for record id ${JSON.stringify(id)} already exists`);
}

export async function removeWorkdir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { UsageError } from '../core/errors.js';
import { checkInput } from '../io/open-source.js';
import { compareNatural } from './natural-compare.js';

/**
 * The inputs of `op merge`, in argument order: `-` is stdin, an existing path is itself,
 * and a (quoted) glob becomes its matching files in natural order. Node 20 has no fs.glob,
 * so tinyglobby expands; it enters opkit here only. A path that does not exist and a glob
 * that matches nothing are usage errors, raised before any input is read.
 */
export function expandInputs(specs: readonly string[]): string[] {
  const files: string[] = [];
  for (const spec of specs) {
    if (spec === '-') {
      if (files.includes('-')) throw new UsageError('- (stdin) can be read only once');
      files.push(spec);
    } else if (exists(spec) || !isDynamicPattern(spec)) {
      checkInput(spec);
      files.push(spec);
    } else {
      const matches = globSync(spec, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(spec) });
      if (matches.length === 0) throw new UsageError(`no file matches ${spec}`);
      files.push(...matches.sort(compareNatural));
    }
  }
  return files;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/**
 * What the bundle takes from @oclif/core. scripts/bundle.mjs points the bundle's
 * `@oclif/core` here and builds oclif itself, alone, into oclif.cjs beside the bundle.
 */
type Oclif = typeof import('@oclif/core');

/**
 * oclif (~690 KB of CommonJS) with its compiled code cached on disk, as Node 22.1+ caches
 * the modules it loads itself once `module.enableCompileCache()` runs (bin/run.js). Node 20
 * has no such cache, and Node's never covers a script run this way: V8 compiled oclif at
 * every start, ~18 ms, and then each of its functions as it first ran, ~15 ms more
 * (bench/RESULTS.md, start-up). Here V8's cached data for the file, written after the
 * first run, is handed back to it. The cache file is named for the content's hash (the
 * build writes it on the first line), the file's path, node's version and flags; V8 also checks the data
 * and compiles afresh when it refuses it, and the cache is then written again.
 */
export function loadOclif(): Oclif {
  const file = fileURLToPath(new URL('./oclif.cjs', import.meta.url));
  const source = readFileSync(file, 'utf8');
  const cacheDir = compileCacheDir();
  const prefix = `oclif-${process.version}-${process.arch}-${process.execArgv.length ? flagsTag() : 'plain'}-${pathTag(file)}-`;
  const cacheFile = cacheDir && join(cacheDir, `${prefix}${CONTENT.exec(source)?.[1] ?? 'untagged'}.bin`);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new Script(`(function (exports, require, module, __filename, __dirname, opkitImport) {${source}\n})`, { filename: file, cachedData });
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    // After the run, so that the functions the run compiled are in the cache too.
    process.once('exit', () => writeCache(cacheDir!, cacheFile, prefix, script));
  }
  const module = { exports: {} as Oclif };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), (specifier: string) => import(specifier));
  return module.exports;
}

/** The first line of oclif.cjs, as scripts/bundle.mjs writes it: `// content HASH`. */
const CONTENT = /^\/\/ content (\w+)\n/;

/**
 * Where the cache goes: under the user's own cache folder (`$XDG_CACHE_HOME` or
 * ~/.cache), never a shared one, since cached code is code. None when
 * NODE_DISABLE_COMPILE_CACHE is set.
 */
function compileCacheDir(): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'opkit', 'compile-cache');
}

/**
 * The file's path, as a file-name part. Node 20's V8 keeps the script name it finds in
 * accepted data, so data written by a copy elsewhere would name that copy's path in every
 * stack (and opkit's own frames would no longer be known as its own).
 */
function pathTag(file: string): string {
  return createHash('sha256').update(file).digest('hex').slice(0, 12);
}

/** The node flags, as a file-name part (each begins with `-`): V8 rejects data made under other flags. */
function flagsTag(): string {
  return process.execArgv.join('_').replace(/[^\w.=-]/g, '').slice(0, 80);
}

/**
 * Written whole under a temporary name, then renamed: a reader never sees half of it. The
 * same node's files for other contents (earlier builds) go.
 */
function writeCache(dir: string, file: string, prefix: string, script: Script): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    for (const name of readdirSync(dir)) if (name.startsWith(prefix) && name.endsWith('.bin') && join(dir, name) !== file) rmSync(join(dir, name), { force: true });
  } catch {}
}

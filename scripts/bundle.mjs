#!/usr/bin/env node
// Bundles the CLI into dist/src/bundle/: op.mjs (oclif, the command declarations and the
// engine under them) and the chunks esbuild splits off at the engine's lazy imports. Each
// command loads a handful of files instead of ~150 modules to resolve, so every `op`
// command starts sooner (bench/RESULTS.md). Within the CLI process every module, and so
// every error class, exists once: in the bundle. The packages the engine imports stay
// outside and load only when a run needs them (tinypool, chokidar, execa, redis,
// stream-json). The bundle sits at the depth of dist/src/<folder>/, so a path the engine
// builds from its own place (`../executors/thread-worker.bundle.mjs`) holds from both.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'dist/src/bundle');

/** ESM for Node 20+ from the compiled entries (under dist/), with `options` on top. */
function bundle(entryPoints, options) {
  return build({ entryPoints, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', ...options });
}

/** The engine's packages, and their subpaths: loaded from node_modules at run time. */
const ENGINE_PACKAGES = ['chokidar', 'execa', 'redis', 'stream-chain', 'stream-json', 'tinypool', 'tsx'].flatMap((name) => [name, `${name}/*`]);

/**
 * The bundle's imports of @oclif/core go to src/cli/oclif.ts, which loads oclif.cjs (below)
 * with its compiled code cached (src/cli/load-oclif.ts).
 */
const oclifThroughCache = {
  name: 'oclif-through-cache',
  setup(build) {
    build.onResolve({ filter: /^@oclif\/core$/ }, () => ({ path: join(root, 'dist/src/cli/oclif.js') }));
  },
};

rmSync(OUT, { recursive: true, force: true });
// oclif alone, as one CommonJS file: the part of every start that a compile cache can skip.
await build({
  stdin: { contents: "module.exports = require('@oclif/core');", resolveDir: root, loader: 'js', sourcefile: 'oclif-entry.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['typescript'],
  outfile: join(OUT, 'oclif.cjs'),
});
// V8 loses a script's dynamic-import hook when it comes from cached data, so oclif's
// `import()` calls go through a function that src/cli/load-oclif.ts passes in.
const oclifFile = join(OUT, 'oclif.cjs');
const oclifSource = readFileSync(oclifFile, 'utf8');
const imports = oclifSource.match(/\bawait import\(/g)?.length ?? 0;
if (imports === 0) throw new Error('bundle: no import() found in oclif.cjs; update scripts/bundle.mjs');
// oclif sorts the commands with localeCompare at every start, and the first call builds
// ICU's collator: ~8 ms. The ids are ASCII, so code-point order is the same order.
const LOCALE_SORT = '.sort((a, b) => a.id.localeCompare(b.id))';
if (!oclifSource.includes(LOCALE_SORT)) throw new Error('bundle: oclif no longer sorts commands by localeCompare; update scripts/bundle.mjs');
const oclifBody = oclifSource.replace(/\bawait import\(/g, 'await opkitImport(').replace(LOCALE_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))');
// The content's hash names its compile cache (src/cli/load-oclif.ts): V8 checks cached data
// against the source's length only, and npm gives every installed file the same mtime.
writeFileSync(oclifFile, `// content ${createHash('sha256').update(oclifBody).digest('hex').slice(0, 16)}\n${oclifBody}`);
await bundle(
  { op: join(root, 'dist/commands/index.js') },
  {
    plugins: [oclifThroughCache],
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    splitting: true,
    // oclif can load TypeScript for plugins in development; a built CLI never needs it.
    external: ['typescript', ...ENGINE_PACKAGES],
    // oclif is CommonJS: give the bundle a require() for the modules it loads at run time.
    banner: { js: "import { createRequire as opkitCreateRequire } from 'node:module'; const require = opkitCreateRequire(import.meta.url);" },
  },
);

// The worker threads' entry and the ~35 modules under it, as one file beside the module it
// replaces (so paths it finds from its own place stay right). Each worker starts by loading
// it: one file to read and compile instead of a module graph to resolve, which cuts the time
// before a worker runs its first record (bench small-w2). Packages stay outside: tinypool
// keeps its own state per module, and tsx loads esbuild's binary.
await bundle([join(root, 'dist/src/executors/thread-worker.js')], { outfile: join(root, 'dist/src/executors/thread-worker.bundle.mjs'), packages: 'external' });

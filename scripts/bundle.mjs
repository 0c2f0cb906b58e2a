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
import { rmSync } from 'node:fs';
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

rmSync(OUT, { recursive: true, force: true });
await bundle(
  { op: join(root, 'dist/commands/index.js') },
  {
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

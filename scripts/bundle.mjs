#!/usr/bin/env node
// Bundles the CLI surface (oclif and the command declarations) into dist/op.mjs: one file
// to load instead of ~150 modules to resolve, so every `op` command starts sooner
// (bench/RESULTS.md). The engine under src/ stays as compiled modules beside it, loaded
// lazily by the commands' run(), so its libraries (tinypool, chokidar, execa, stream-json)
// load only when a run needs them, and every error class exists once.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `../src/x.js` from dist/commands (or `../../src/x.js` from dist/commands/shared) becomes
 * `./src/x.js` from dist/op.mjs, left unbundled.
 */
const engineStaysOutside = {
  name: 'engine-stays-outside',
  setup(builder) {
    builder.onResolve({ filter: /^(\.\.\/)+src\// }, (args) => ({ path: args.path.replace(/^(\.\.\/)+/, './'), external: true }));
  },
};

/** One ESM file for Node 20+ from the compiled entry `from` (under dist/), with `options` on top. */
function bundle(from, to, options) {
  return build({ entryPoints: [join(root, from)], outfile: join(root, to), bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', ...options });
}

await bundle('dist/commands/index.js', 'dist/op.mjs', {
  plugins: [engineStaysOutside],
  // oclif can load TypeScript for plugins in development; a built CLI never needs it.
  external: ['typescript'],
  // oclif is CommonJS: give the bundle a require() for the modules it loads at run time.
  banner: { js: "import { createRequire as opkitCreateRequire } from 'node:module'; const require = opkitCreateRequire(import.meta.url);" },
});

// The worker threads' entry and the ~35 modules under it, as one file beside the module it
// replaces (so paths it finds from its own place stay right). Each worker starts by loading
// it: one file to read and compile instead of a module graph to resolve, which cuts the time
// before a worker runs its first record (bench small-w2). Packages stay outside: tinypool
// keeps its own state per module, and tsx loads esbuild's binary.
await bundle('dist/src/executors/thread-worker.js', 'dist/src/executors/thread-worker.bundle.mjs', { packages: 'external' });

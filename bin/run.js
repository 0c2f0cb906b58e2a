#!/usr/bin/env node
// `op --version` is the probe scripts run before anything else: answer it without loading
// the CLI at all, in the CLI's own format.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`opkit/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  // Node 22.1 and later keep V8's compiled code of the bundle's files on disk (in
  // os.tmpdir()), so every later start skips compiling them again.
  // Node 20 has no compile cache; there the call is skipped.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  // The bundle (scripts/bundle.mjs): oclif, every command and the engine.
  const { execute } = await import('../dist/src/bundle/op.mjs');
  await execute({ dir: import.meta.url });
}

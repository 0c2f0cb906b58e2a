import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers/run-op.js';

/**
 * Imports point one way: commands → cli → engine → executors → records → io, handler, queue →
 * core. A capability folder (shard, merge, watch, …) may use any layer below the CLI but
 * never another capability: what two of them share moves down to a layer.
 */
const LAYERS: Record<string, number> = { core: 0, io: 1, handler: 1, queue: 1, records: 2, executors: 3, engine: 4, cli: 6 };
const CAPABILITY = 5;
const CAPABILITIES = new Set(['shard', 'merge', 'watch', 'run', 'reduce', 'tee', 'each']);

const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every folder a file imports from, static or dynamic, relative to src/. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]!);
  return specs.map((spec) => relative(SRC, join(file, '..', spec)).split('/')[0]!).filter((folder) => !folder.startsWith('..') && !folder.endsWith('.js'));
}

function rank(folder: string): number | undefined {
  return CAPABILITIES.has(folder) ? CAPABILITY : LAYERS[folder];
}

test('every src folder has a place in the layers', () => {
  const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  for (const folder of folders) assert.ok(rank(folder) !== undefined, `src/${folder} is in no layer: add it to LAYERS or CAPABILITIES`);
});

test('imports point down the layers, and capabilities never import each other', () => {
  const wrong: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const own = relative(SRC, file).split('/')[0]!;
    if (own.endsWith('.ts')) continue;
    for (const folder of importedFolders(file)) {
      if (folder === own) continue;
      const from = rank(own)!;
      const to = rank(folder)!;
      if (to > from || (to === from && from === CAPABILITY) || (to === from && own !== folder && from !== 1)) wrong.push(`${relative(ROOT, file)} imports src/${folder}`);
    }
  }
  assert.equal(wrong, []);
});

test.run();

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runOp, runProcess } from './helpers/run-op.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

test('op --version and -v print the name, version, platform and node', async () => {
  for (const flag of ['--version', '-v']) {
    const result = await runOp([flag]);
    assert.is(result.status, 0);
    assert.is(result.stdout, `opkit/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
  }
});

test('op --help lists every command', async () => {
  const result = await runOp(['--help']);
  assert.is(result.status, 0);
  for (const command of ['map', 'filter', 'slice', 'batch', 'shard', 'merge', 'watch', 'run', 'each']) assert.match(result.stdout, new RegExp(`\\n  ${command}\\s`));
});

test('an unknown command is a usage error', async () => {
  const result = await runOp(['nope']);
  assert.is(result.status, 2);
  assert.match(result.stderr, /nope/);
});

test('the package ships everything the installed CLI loads', async () => {
  const result = await runProcess('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  assert.is(result.status, 0, result.stderr);
  const [packed] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
  const paths = new Set<string>((packed?.files ?? []).map((file) => file.path));
  const needed = ['bin/op', 'bin/run.js', 'dist/src/bundle/op.mjs', 'dist/src/bundle/oclif.cjs', 'oclif.manifest.json', 'dist/src/index.d.ts', 'dist/src/executors/thread-worker.js', 'dist/src/cli/run-handler-command.js', 'man/op.1'];
  for (const path of needed) assert.ok(paths.has(path), `${path} is in the package`);
  const { man } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
  for (const page of man) assert.ok(paths.has(page.replace(/^\.\//, '')), `${page} is in the package`);
  assert.not.ok([...paths].some((path) => path.startsWith('dist/test/')), 'no test files');
});

/** bin/op, the installed command, with this test's node first on PATH (bin/op runs `node`). */
const LAUNCHER = join(ROOT, 'bin/op');
const launcherEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };

test('bin/op is the installed command, and runs through a relative symlink from elsewhere', async () => {
  const { bin } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.is(bin.op, './bin/op');
  const dir = mkdtempSync(join(tmpdir(), 'opkit-bin-'));
  try {
    symlinkSync(relative(dir, LAUNCHER), join(dir, 'op'));
    const printed = await runProcess(join(dir, 'op'), ['--version'], { env: launcherEnv, cwd: tmpdir() });
    assert.is(printed.stdout, `opkit/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
    const mapped = await runProcess(join(dir, 'op'), ['map', '({...r, b: r.a + 1})'], { env: launcherEnv, input: '{"a":1}\n' });
    assert.is(mapped.stdout, '{"a":1,"b":2}\n', mapped.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/op gives op each a small young generation, and no other command', async () => {
  // With op's own spawn, a job's parent is op: the job prints op's command line (no braces:
  // op each would read them as placeholders).
  const env = { ...launcherEnv, OP_EACH_RUNNER: 'node' };
  const each = await runProcess(LAUNCHER, ['each', '--stdout-json', '--', 'node', '-e', 'console.log(JSON.stringify(require("fs").readFileSync("/proc/" + process.ppid + "/cmdline", "utf8").split("\\0")))'], { env, input: '{}\n' });
  assert.is(each.status, 0, each.stderr);
  const argv = (JSON.parse(each.stdout) as { exec: { stdout: string[] } }).exec.stdout;
  assert.equal(argv.slice(1, 4), ['--max-semi-space-size=2', join(ROOT, 'bin/run.js'), 'each']);
  const map = await runProcess(LAUNCHER, ['map', 'process.execArgv'], { env, input: '{}\n' });
  assert.is(map.stdout, '[]\n', map.stderr);
});

test('the CLI loads every module from the bundle, so each error class exists once (instanceof holds)', () => {
  const dir = join(ROOT, 'dist/src/bundle');
  const files = readdirSync(dir).filter((name) => name.endsWith('.mjs'));
  const texts = files.map((name) => readFileSync(join(dir, name), 'utf8'));
  for (const name of ['OpError', 'UsageError', 'InputError']) {
    assert.is(texts.reduce((n, text) => n + (text.match(new RegExp(`(class ${name}|${name} = class)\\b`, 'g'))?.length ?? 0), 0), 1, `class ${name} once`);
  }
  // No file of the bundle imports a module from outside it by path (dist/src's compiled modules).
  for (const [k, text] of texts.entries()) assert.not.match(text, /(from|import\()\s*["']\.\.\//, files[k]);
});

test('op help, op help map and op map -h print the same help as --help', async () => {
  const root = await runOp(['--help']);
  const map = await runOp(['map', '--help']);
  assert.match(map.stdout, /^Transform each record/);
  for (const [args, expected] of [[['help'], root], [['help', 'map'], map], [['map', '-h'], map], [['map', 'r', '-h'], map]] as const) {
    const result = await runOp([...args]);
    assert.is(result.status, 0, args.join(' '));
    assert.is(result.stdout, expected.stdout, args.join(' '));
  }
});

test("oclif's compiled code is cached in the user's cache folder, and a bad cache is replaced", async () => {
  const home = mkdtempSync(join(tmpdir(), 'opkit-cache-'));
  try {
    const env = { XDG_CACHE_HOME: home, NODE_DISABLE_COMPILE_CACHE: '' };
    const cacheDir = join(home, 'opkit', 'compile-cache');
    const first = await runOp(['map', '(r.b = 2, r)'], { input: '{"a":1}\n', env });
    assert.is(first.stdout, '{"a":1,"b":2}\n', first.stderr);
    const [file, ...others] = readdirSync(cacheDir);
    assert.ok(file?.startsWith(`oclif-${process.version}-`), `one cache file, named for the node version: ${file}`);
    assert.equal(others, []);
    const made = readFileSync(join(cacheDir, file!));
    assert.ok(made.length > 100_000, `V8's data for oclif: ${made.length} bytes`);
    // Garbage in its place: V8 refuses it, oclif compiles as without a cache, and the file is made again;
    // the file of an earlier build (another content hash, the same node) goes.
    writeFileSync(join(cacheDir, file!), 'not a code cache');
    const earlier = file!.replace(/[^-]+\.bin$/, '0123456789abcdef.bin');
    writeFileSync(join(cacheDir, earlier), 'an earlier build');
    const second = await runOp(['map', '(r.b = 2, r)'], { input: '{"a":1}\n', env });
    assert.is(second.stdout, '{"a":1,"b":2}\n', second.stderr);
    assert.is(second.stderr, '');
    assert.ok(readFileSync(join(cacheDir, file!)).length > 100_000, 'the cache is written again');
    assert.equal(readdirSync(cacheDir), [file], "the earlier build's file is gone");
    // NODE_DISABLE_COMPILE_CACHE, as for Node's own cache: nothing is written.
    rmSync(cacheDir, { recursive: true });
    const third = await runOp(['map', 'r'], { input: '{"a":1}\n', env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' } });
    assert.is(third.stdout, '{"a":1}\n', third.stderr);
    assert.equal(readdirSync(join(home, 'opkit')), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a copy of op elsewhere has its own cache file: no stack names the other copy', async () => {
  const home = mkdtempSync(join(tmpdir(), 'opkit-cache-'));
  const copy = mkdtempSync(join(tmpdir(), 'opkit-copy-'));
  try {
    for (const part of ['bin', 'dist/src', 'dist/commands', 'package.json', 'oclif.manifest.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(join(home, 'bad.ndjson'), '{"i":1}\n{"i":}\n');
    const env = { XDG_CACHE_HOME: home, NODE_DISABLE_COMPILE_CACHE: '' };
    const expected = 'op merge: bad.ndjson:2: SyntaxError: Unexpected token \'}\', "{"i":}" is not valid JSON\n  {"i":}\n';
    // The copy runs first and writes its cache; this checkout's run must not take it.
    for (const bin of [join(copy, 'bin/run.js'), join(ROOT, 'bin/run.js'), join(ROOT, 'bin/run.js')]) {
      const result = await runProcess(process.execPath, [bin, 'merge', '--key', 'i', 'bad.ndjson'], { cwd: home, env });
      assert.is(result.status, 1, bin);
      assert.is(result.stderr, expected, bin);
    }
    assert.is(readdirSync(join(home, 'opkit', 'compile-cache')).length, 2, 'one cache file per copy');
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
});

test('a mistyped command gets a suggestion, as a usage error', async () => {
  const result = await runOp(['mpa', 'r']);
  assert.is(result.status, 2);
  assert.is(result.stderr, 'op: unknown command mpa; did you mean map?\nSee op --help\n');
  const help = await runOp(['help', 'fitler']);
  assert.is(help.status, 2);
  assert.is(help.stderr, 'op: unknown command fitler; did you mean filter?\nSee op --help\n');
  const far = await runOp(['nope']);
  assert.is(far.stderr, 'op: unknown command nope\nSee op --help\n');
});

test('a mistyped flag gets a suggestion', async () => {
  const result = await runOp(['map', '--worker', '2', 'r']);
  assert.is(result.status, 2);
  assert.is(result.stderr, 'op map: unknown flag --worker; did you mean --workers?\nSee op map --help\n');
  const swapped = await runOp(['merge', '--nmueric']);
  assert.is(swapped.stderr, 'op merge: unknown flag --nmueric; did you mean --numeric?\nSee op merge --help\n');
});

interface ManifestFlag {
  name: string;
  type: string;
  helpValue?: string;
  dependsOn?: string[];
  options?: string[];
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { id: string; hidden?: boolean; flags: Record<string, ManifestFlag> }>;
};

test('every whole-number flag rejects a bad value in one line of its own words', async () => {
  const cases: Array<{ id: string; flag: string; unit: string; bad: string }> = [];
  for (const command of Object.values(manifest.commands)) {
    for (const flag of Object.values(command.flags)) {
      if (flag.type !== 'option' || !['N', 'M', 'MS'].includes(flag.helpValue ?? '')) continue;
      for (const bad of ['x', '1.5']) cases.push({ id: command.id, flag: flag.name, unit: flag.helpValue === 'MS' ? ' of ms' : '', bad });
    }
  }
  assert.ok(cases.length >= 30, `${cases.length / 2} flags checked`);
  // Four at a time: each is a whole op start-up, and there are dozens.
  for (let k = 0; k < cases.length; k += 4) {
    const batch = cases.slice(k, k + 4);
    const results = await Promise.all(batch.map(({ id, flag, bad }) => runOp([id, `--${flag}=${bad}`])));
    for (const [n, result] of results.entries()) {
      const { id, flag, unit, bad } = batch[n]!;
      assert.is(result.status, 2, `${id} --${flag}=${bad}`);
      assert.match(result.stderr, new RegExp(`^op ${id}: --${flag} must be a whole number${unit}( ≥ \\d+)?, got ${bad}\\nSee op ${id} --help\\n$`));
    }
  }
  const timeout = await runOp(['map', '--timeout', '-5', 'r']);
  assert.is(timeout.stderr, 'op map: --timeout must be a whole number of ms ≥ 1, got -5\nSee op map --help\n');
});

test('a flag that needs another names it, with its value', async () => {
  let checked = 0;
  for (const command of Object.values(manifest.commands)) {
    for (const flag of Object.values(command.flags)) {
      for (const other of flag.dependsOn ?? []) {
        // A value the flag takes (one of its choices, when it has them), so only the missing flag is wrong.
        const value = flag.type === 'option' ? [flag.options?.[0] ?? '3'] : [];
        const result = await runOp([command.id, `--${flag.name}`, ...value]);
        const needed = command.flags[other]!;
        const word = needed.type === 'option' && needed.helpValue ? ` ${needed.helpValue}` : '';
        assert.is(result.stderr, `op ${command.id}: --${flag.name} needs --${other}${word}\nSee op ${command.id} --help\n`);
        assert.is(result.status, 2);
        checked++;
      }
    }
  }
  assert.ok(checked >= 2, `${checked} flags checked`);
  const maxErrors = await runOp(['map', '--max-errors', '3', 'r']);
  assert.is(maxErrors.stderr, 'op map: --max-errors needs --errors FILE\nSee op map --help\n');
});

test('--debug is one declaration shared by every command', async () => {
  for (const command of Object.values(manifest.commands)) {
    if (command.hidden) continue;
    assert.equal(command.flags.debug, manifest.commands.map!.flags.debug, command.id);
  }
});

test.run();

#!/usr/bin/env node
// Writes man/op.1 and man/op-<command>.1 from oclif.manifest.json (the commands' own
// metadata: summary, description, examples, args, flags), and the `man` array of
// package.json. `--check` writes nothing: it exits 1 naming each stale file.
// Output depends only on the manifest and package.json, never on the date or the machine.
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The built commands' own facts: one source for the man pages, the README and op's help.
import { exitStatuses } from '../dist/commands/shared/exit-statuses.js';
import { LAUNCHER_VARIABLES } from '../dist/commands/shared/launcher-variables.js';
import { CACHE_VARIABLES } from '../dist/commands/shared/cache-variables.js';
import { argName, descriptionOf, fill, flagFacts, flagValue, formatDefault, normaliseExamples, summaryOf, visibleArgs, visibleFlags } from './command-metadata.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manDir = join(root, 'man');
const PAGE = /^op(-.+)?\.1$/;

function main() {
  const check = process.argv.includes('--check');
  const manifestPath = join(root, 'oclif.manifest.json');
  if (!existsSync(manifestPath)) {
    console.error('gen-man: oclif.manifest.json is missing; run `npm run build` first');
    process.exit(1);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const pkgText = readFileSync(join(root, 'package.json'), 'utf8');
  const pkg = JSON.parse(pkgText);
  // Every command, hidden ones too (op help): hidden keeps a command out of `op --help`, not out of man.
  const commands = Object.values(manifest.commands);

  const pages = new Map([['op.1', renderOverview(pkg, commands)]]);
  for (const command of commands) pages.set(pageName(command.id), renderCommand(pkg, command, commands));
  const manList = [...pages.keys()].sort(comparePages).map((name) => `man/${name}`);
  const newPkgText = withManArray(pkgText, manList);

  const existing = existsSync(manDir) ? readdirSync(manDir).filter((name) => PAGE.test(name)) : [];
  const stale = [];
  for (const [name, text] of pages) {
    const path = join(manDir, name);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) stale.push(`man/${name}`);
  }
  const orphans = existing.filter((name) => !pages.has(name)).map((name) => `man/${name}`);
  const pkgStale = newPkgText !== pkgText;

  if (check) {
    const problems = [...stale.map((p) => `${p}: out of date`), ...orphans.map((p) => `${p}: no such command in the manifest`)];
    if (pkgStale) problems.push('package.json: "man" does not list exactly the generated pages');
    if (problems.length === 0) {
      console.log(`gen-man: ${pages.size} pages up to date`);
      return;
    }
    for (const problem of problems) console.error(`gen-man: ${problem}`);
    console.error('gen-man: run `npm run build && npm run man` and commit man/ and package.json');
    process.exit(1);
  }

  mkdirSync(manDir, { recursive: true });
  for (const name of stale) writeFileSync(join(root, name), pages.get(name.slice('man/'.length)));
  for (const name of orphans) unlinkSync(join(root, name));
  if (pkgStale) writeFileSync(join(root, 'package.json'), newPkgText);
  const changed = stale.length + orphans.length + (pkgStale ? 1 : 0);
  console.log(`gen-man: ${pages.size} pages, ${changed} file${changed === 1 ? '' : 's'} changed`);
}

/** `shard:split` (oclif's internal separator) becomes op-shard-split.1. */
function pageName(id) {
  return `op-${id.replace(/[:\s]+/g, '-')}.1`;
}

function manRef(id) {
  return `op-${id.replace(/[:\s]+/g, '-')}`;
}

function comparePages(a, b) {
  if (a === 'op.1') return -1;
  if (b === 'op.1') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Replaces only the `"man": [...]` value in package.json's text, so every other byte
 * (others edit scripts and dependencies) stays as it was.
 */
function withManArray(text, list) {
  const match = /^([ \t]*)"man":\s*\[[^\]]*\]/m.exec(text);
  const indent = match?.[1] ?? '  ';
  const value = list.length === 0 ? '[]' : `[\n${list.map((item) => `${indent}  ${JSON.stringify(item)}`).join(',\n')}\n${indent}]`;
  if (match) {
    const next = text.slice(0, match.index) + `${indent}"man": ${value}` + text.slice(match.index + match[0].length);
    if (JSON.stringify(JSON.parse(next).man) === JSON.stringify(list)) return next;
  }
  const pkg = JSON.parse(text);
  pkg.man = list;
  return JSON.stringify(pkg, null, 2) + '\n';
}

// ---------------------------------------------------------------------------- roff

/**
 * Text to roff. Backslashes, quotes that groff would curl, ~ and ^ (groff 1.23 prints
 * them as modifier letters), non-ASCII (as \[uXXXX], so no preconv is needed) and a
 * leading . or ' (a control line) are escaped. Hyphens become \- in code, and in prose
 * within words that start with one (-c, --max-errors), so options copy and search right.
 */
function esc(text, { code = false } = {}) {
  let out = text.replace(/\\/g, '\\e');
  out = code
    ? out.replace(/-/g, '\\-')
    : out.replace(/(^|[\s([{"'`|/=])(-[^\s,;:.)\]}"'`]*)/g, (_, before, word) => before + word.replace(/-/g, '\\-'));
  out = out
    .replace(/'/g, '\\(aq')
    .replace(/`/g, '\\(ga')
    .replace(/~/g, '\\(ti')
    .replace(/\^/g, '\\(ha')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII; what is outside it is escaped.
    .replace(/[^\x00-\x7f]/gu, (ch) => `\\[u${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
  return out
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

const bold = (text) => `\\fB${esc(text, { code: true })}\\fR`;
const italic = (text) => `\\fI${esc(text, { code: true })}\\fR`;

/**
 * A description as paragraphs (blank-line separated). A paragraph whose lines are
 * indented is kept as written (a list or code), the rest is filled by the formatter.
 */
function paragraphs(text, first = '.PP') {
  const blocks = text.trim().split(/\n\s*\n/).filter((block) => block.trim() !== '');
  const lines = [];
  blocks.forEach((block, n) => {
    lines.push(n === 0 ? first : first === '.PP' ? '.PP' : '.IP');
    if (block.split('\n').some((line) => /^\s/.test(line))) {
      lines.push('.RS 4', '.nf', esc(block.replace(/^\n+|\s+$/g, ''), { code: true }), '.fi', '.RE');
    } else {
      lines.push(esc(block.split('\n').map((line) => line.trim()).join('\n')));
    }
  });
  return lines;
}

function th(name, pkg) {
  return [
    `.\\" Generated by scripts/gen-man.mjs from the commands' metadata; do not edit.`,
    `.\\" Regenerate: npm run build && npm run man`,
    `.TH ${name.toUpperCase().replace(/-/g, '\\-')} 1 "" "opkit ${pkg.version}" "opkit manual"`,
    // No hyphenation, ragged right: a hyphen inserted into --unordered reads as an option.
    '.nh',
    '.ad l',
  ];
}

/** `-c, --concurrency=N` in roff. */
function flagTag(flag) {
  const long = flag.type === 'boolean' && flag.allowNo ? `--[no-]${flag.name}` : `--${flag.name}`;
  const value = flagValue(flag);
  const names = [flag.char ? bold(`-${flag.char}`) : null, bold(long)].filter(Boolean).join(', ');
  return value ? `${names}=${italic(value)}` : names;
}

function synopsisArgs(command) {
  const words = [];
  for (const flag of visibleFlags(command).filter((f) => f.required)) {
    const value = flagValue(flag);
    words.push(`${bold(`--${flag.name}`)}${value ? ` ${italic(value)}` : ''}`);
  }
  if (visibleFlags(command).some((f) => !f.required)) words.push(`[${italic('options')}]`);
  const args = visibleArgs(command);
  args.forEach((arg, n) => {
    const variadic = command.strict === false && n === args.length - 1 ? '\\ .\\|.\\|.' : '';
    words.push(arg.required ? `${italic(argName(arg))}${variadic}` : `[${italic(argName(arg))}${variadic}]`);
  });
  if (args.length === 0 && command.strict === false) words.push(`[${italic('ARG')}\\ .\\|.\\|.]`);
  return words;
}

function groupTitle(group) {
  return group.charAt(0).toUpperCase() + group.slice(1).toLowerCase();
}

function renderOptions(command) {
  const flags = visibleFlags(command);
  if (flags.length === 0) return [];
  const groups = new Map([['', []]]);
  for (const flag of flags) {
    const group = flag.helpGroup ?? '';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(flag);
  }
  const lines = ['.SH OPTIONS'];
  for (const [group, members] of groups) {
    if (members.length === 0) continue;
    if (group) lines.push(`.SS "${groupTitle(group).replace(/"/g, '')}"`);
    for (const flag of members) {
      lines.push('.TP', flagTag(flag));
      const summary = fill(flag.summary ?? '', command.id).trim();
      const description = fill(flag.description ?? '', command.id).trim();
      const facts = flagFacts(flag, `${summary}\n${description}`);
      const text = [summary || description, facts].filter(Boolean).join(' ');
      if (text) lines.push(esc(text));
      if (summary && description && description !== summary) lines.push(...paragraphs(description, '.IP'));
    }
  }
  return lines;
}

function renderArguments(command) {
  const args = visibleArgs(command);
  if (args.length === 0) return [];
  const lines = ['.SH ARGUMENTS'];
  for (const arg of args) {
    lines.push('.TP', italic(argName(arg)));
    const facts = [];
    if (!arg.required) facts.push('Optional.');
    if (arg.options?.length) facts.push(`One of: ${arg.options.join(', ')}.`);
    if (arg.default !== undefined) facts.push(`Default: ${formatDefault(arg.default)}.`);
    const text = [fill(arg.description ?? '', command.id).trim(), ...facts].filter(Boolean).join(' ');
    if (text) lines.push(esc(text));
  }
  return lines;
}

function renderExample(example) {
  const lines = [];
  if (example.description) lines.push('.PP', esc(example.description));
  lines.push('.PP', '.RS 4', '.nf', esc(`$ ${example.command}`, { code: true }), '.fi', '.RE');
  return lines;
}

function renderExitStatus(codes) {
  const lines = ['.SH "EXIT STATUS"'];
  for (const { status, text } of codes) lines.push('.TP', `\\fB${status}\\fR`, esc(text));
  return lines;
}

function renderCommand(pkg, command, all) {
  const name = manRef(command.id);
  const display = `op ${command.id.replace(/:/g, ' ')}`;
  const lines = [...th(name, pkg)];
  lines.push('.SH NAME', `${esc(name, { code: true })} \\- ${esc(summaryOf(command))}`);
  lines.push('.SH SYNOPSIS', `${bold(display)} ${synopsisArgs(command).join(' ')}`.trim());
  const aliases = (command.aliases ?? []).filter(Boolean);
  if (aliases.length) lines.push('.br', `Aliases: ${aliases.map((alias) => bold(`op ${alias.replace(/:/g, ' ')}`)).join(', ')}`);
  lines.push('.SH DESCRIPTION', ...paragraphs(descriptionOf(command)));
  lines.push(...renderArguments(command));
  lines.push(...renderOptions(command));
  const examples = normaliseExamples(command);
  if (examples.length) lines.push('.SH EXAMPLES', ...examples.flatMap(renderExample));
  lines.push(...renderExitStatus(exitStatuses({ handler: visibleFlags(command).some((flag) => flag.name === 'errors') })));
  lines.push('.SH "SEE ALSO"', seeAlso(['op', ...all.filter((other) => other.id !== command.id).map((other) => manRef(other.id))]));
  return lines.join('\n') + '\n';
}

function seeAlso(names) {
  return names.map((name, n) => `.BR ${name.replace(/-/g, '\\-')} (1)${n < names.length - 1 ? ' ,' : ''}`).join('\n');
}

function renderOverview(pkg, commands) {
  const lines = [...th('op', pkg)];
  lines.push('.SH NAME', `op \\- ${esc(String(pkg.description ?? 'opkit').replace(/\.$/, ''))}`);
  lines.push(
    '.SH SYNOPSIS',
    `${bold('op')} ${italic('COMMAND')} [${italic('options')}] [${italic('ARG')}\\ .\\|.\\|.]`,
    '.br',
    `${bold('op')} ${italic('COMMAND')} ${bold('--help')}`,
    '.br',
    `${bold('op')} ${bold('--version')}`,
  );
  lines.push(
    '.SH DESCRIPTION',
    ...paragraphs(
      [
        'opkit is a toolkit of composable Unix commands, run as op, for building data-processing operators over NDJSON (one JSON value per line). You write the one function that does the work, the HANDLER; op does the reading, batching, concurrency, ordering, retries, error accounting and output.',
        'Every command reads NDJSON from stdin (or --in FILE) and writes NDJSON to stdout (or --out FILE), so commands compose with pipes, and with jq, Miller and the shell.',
        'A HANDLER is an expression over r (the record), i (its 0-based index) and ctx; a function, sync or async; or a module path (.js .mjs .cjs .ts .mts) whose default export is the handler, with optional setup(ctx) and teardown(ctx) exports.',
        'Nothing is lost silently: for every run, records in = records out + dropped + dead-lettered. Without --errors the first failure stops the run; with --errors FILE each failed record becomes one NDJSON line in FILE and the run goes on.',
      ].join('\n\n'),
    ),
  );
  lines.push('.SH COMMANDS');
  for (const command of commands) {
    lines.push('.TP', `${bold(`op ${command.id.replace(/:/g, ' ')}`)} ${synopsisArgs(command).filter((word) => !word.includes('options')).join(' ')}`.trim());
    lines.push(`${esc(summaryOf(command))}.`, `See \\fB${manRef(command.id).replace(/-/g, '\\-')}\\fR(1).`);
  }
  const firsts = commands.map((command) => normaliseExamples(command)[0]).filter(Boolean);
  if (firsts.length) lines.push('.SH EXAMPLES', ...firsts.flatMap(renderExample));
  lines.push(...renderExitStatus(exitStatuses({ handler: true })));
  lines.push('.SH ENVIRONMENT');
  for (const { names, text } of [...LAUNCHER_VARIABLES, ...CACHE_VARIABLES]) lines.push('.TP', names.map((v) => bold(v)).join(', '), esc(text));
  if (commands.some((command) => command.id === 'watch')) {
    lines.push('.TP', `${bold('OP_WATCH_PATH')}, ${bold('OP_WATCH_EVENT')}`, esc('Set by op watch for each COMMAND it runs: the file\'s path and the event.'));
  }
  lines.push('.SH "SEE ALSO"', seeAlso([...commands.map((command) => manRef(command.id)), 'jq', 'mlr', 'parallel']));
  return lines.join('\n') + '\n';
}

main();

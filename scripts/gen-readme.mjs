#!/usr/bin/env node
// Writes the generated sections of README.md from the commands' own metadata
// (oclif.manifest.json and the built commands/), as scripts/gen-man.mjs writes the man
// pages: the command reference, the flags every handler command shares, the exit
// statuses and the launchers' variables. Each lies between
//   <!-- generated: NAME (scripts/gen-readme.mjs) -->  and  <!-- end generated: NAME -->
// and everything outside the markers is left as written. `--check` writes nothing: it
// exits 1 when README.md is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_FILES } from '../dist/commands/shared/example-files.js';
import { exitStatuses } from '../dist/commands/shared/exit-statuses.js';
import { CACHE_VARIABLES } from '../dist/commands/shared/cache-variables.js';
import { LAUNCHER_VARIABLES } from '../dist/commands/shared/launcher-variables.js';
import { argName, descriptionOf, fill, flagFacts, flagValue, loadCommands, normaliseExamples, summaryOf, visibleArgs, visibleFlags } from './command-metadata.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HANDLER_COMMANDS = ['map', 'filter', 'slice', 'batch'];

function main() {
  const check = process.argv.includes('--check');
  const commands = loadCommands(root, 'gen-readme');
  const shared = sharedHandlerFlags(commands);
  const sections = {
    'handler-flags': renderFlagTable(shared, 'map', commands),
    commands: renderCommands(commands, shared),
    'exit-statuses': renderExitStatuses(),
    environment: renderEnvironment(LAUNCHER_VARIABLES),
    'cache-environment': renderEnvironment(CACHE_VARIABLES),
  };
  // --readme FILE checks or writes another copy (the tests check a stale one).
  const at = process.argv.indexOf('--readme');
  const path = at > 0 ? process.argv[at + 1] : join(root, 'README.md');
  const text = readFileSync(path, 'utf8');
  let next = text;
  for (const [name, body] of Object.entries(sections)) next = replaceSection(next, name, body);
  if (check) {
    if (next === text) {
      console.log('gen-readme: README.md up to date');
      return;
    }
    console.error(`gen-readme: ${path}: out of date; run \`npm run build && npm run man\` and commit README.md`);
    process.exit(1);
  }
  if (next !== text) writeFileSync(path, next);
  console.log(`gen-readme: README.md ${next === text ? 'up to date' : 'rewritten'}`);
}

function replaceSection(text, name, body) {
  const begin = `<!-- generated: ${name} (scripts/gen-readme.mjs) -->`;
  const end = `<!-- end generated: ${name} -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`gen-readme: README.md has no section ${begin} … ${end}`);
    process.exit(1);
  }
  return `${text.slice(0, from + begin.length)}\n${body}${text.slice(to)}`;
}

/**
 * Text for Markdown prose and table cells: its punctuation is literal, never markup. An
 * underscore inside a word (OP_RANK) is never emphasis in GitHub's Markdown, so it stays.
 */
function md(text) {
  return text.replace(/[\\`*<|[\]]/g, '\\$&').replace(/(^|\W)_|_(?=\W|$)/g, (match) => match.replace('_', '\\_'));
}

function code(text) {
  return `\`${text}\``;
}

/** The flags map, filter, slice and batch all have, by name. */
function sharedHandlerFlags(commands) {
  const handlers = commands.filter((command) => HANDLER_COMMANDS.includes(command.id));
  const [first, ...rest] = handlers;
  return new Set(visibleFlags(first).map((flag) => flag.name).filter((name) => rest.every((command) => command.flags[name] !== undefined)));
}

/** `-c, --concurrency N` */
function flagWords(flag) {
  const long = flag.type === 'boolean' && flag.allowNo ? `--[no-]${flag.name}` : `--${flag.name}`;
  const value = flagValue(flag);
  return `${flag.char ? `-${flag.char}, ` : ''}${long}${value ? ` ${value}` : ''}`;
}

function renderFlagTable(names, id, commands) {
  const all = commands ?? loadCommands(root, 'gen-readme');
  const command = all.find((c) => c.id === id);
  const flags = visibleFlags(command).filter((flag) => names.has(flag.name));
  const rows = flags.map((flag) => {
    const summary = fill(flag.summary ?? flag.description ?? '', id).trim();
    return `| ${code(flagWords(flag).replace(/\|/g, '\\|'))} | ${md([summary, flagFacts(flag, summary)].filter(Boolean).join(' '))} |`;
  });
  return ['| flag | |', '|---|---|', ...rows, ''].join('\n');
}

function usageLine(command) {
  const args = visibleArgs(command).map((arg, n, list) => {
    const more = command.strict === false && n === list.length - 1 ? '…' : '';
    return arg.required ? `${argName(arg)}${more}` : `[${argName(arg)}${more}]`;
  });
  return ['op', command.id.replace(/:/g, ' '), ...args, '[options]'].join(' ');
}

function renderCommands(commands, shared) {
  const lines = [md(EXAMPLE_FILES), ''];
  for (const command of commands) {
    lines.push(`### \`op ${command.id.replace(/:/g, ' ')}\``, '', `${md(summaryOf(command))}.`, '', '```', usageLine(command), '```', '');
    const paragraphs = descriptionOf(command)
      .split(/\n\s*\n/)
      .slice(1)
      .filter((paragraph) => paragraph.trim() !== EXAMPLE_FILES);
    for (const paragraph of paragraphs) lines.push(md(paragraph.trim()), '');
    const handler = HANDLER_COMMANDS.includes(command.id);
    const own = new Set(visibleFlags(command).map((flag) => flag.name).filter((name) => !handler || !shared.has(name)));
    if (handler) lines.push(`The flags shared by every handler command${own.size > 0 ? ', and:' : '.'}`, '');
    if (own.size > 0) lines.push(renderFlagTable(own, command.id, commands));
    const examples = normaliseExamples(command);
    if (examples.length > 0) {
      lines.push('```sh');
      examples.forEach((example, n) => {
        if (n > 0) lines.push('');
        if (example.description) lines.push(...example.description.split('\n').map((line) => `# ${line}`));
        lines.push(example.command);
      });
      lines.push('```', '');
    }
  }
  return lines.join('\n');
}

function renderExitStatuses() {
  const rows = exitStatuses({ handler: true }).map(({ status, text }) => `| ${status} | ${md(text)} |`);
  return ['| status | meaning |', '|---|---|', ...rows, ''].join('\n');
}

function renderEnvironment(variables) {
  const rows = variables.map(({ names, text }) => `| ${names.map(code).join(', ')} | ${md(text)} |`);
  return ['| variables | |', '|---|---|', ...rows, ''].join('\n');
}

main();

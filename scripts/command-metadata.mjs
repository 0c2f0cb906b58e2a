// Reading the commands' metadata (oclif.manifest.json) for the generated docs: the man
// pages (scripts/gen-man.mjs) and the README's reference (scripts/gen-readme.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The manifest's visible commands, in the order of the table in commands/index.ts. */
export function loadCommands(root, tool) {
  const path = join(root, 'oclif.manifest.json');
  if (!existsSync(path)) {
    console.error(`${tool}: oclif.manifest.json is missing; run \`npm run build\` first`);
    process.exit(1);
  }
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  return Object.values(manifest.commands).filter((command) => !command.hidden);
}

/** oclif's templates, as oclif's own help fills them. */
export function fill(text, id) {
  return String(text ?? '')
    .replace(/<%=\s*config\.bin\s*%>/g, 'op')
    .replace(/<%=\s*command\.id\s*%>/g, id ?? '')
    .replace(/\r\n/g, '\n');
}

export function summaryOf(command) {
  const text = fill(command.summary ?? String(command.description ?? '').split('\n')[0], command.id).trim();
  return text.replace(/\.$/, '');
}

export function descriptionOf(command) {
  const description = fill(command.description, command.id).trim();
  const summary = fill(command.summary, command.id).trim();
  const parts = [];
  if (summary) parts.push(summary);
  if (description && description !== summary) parts.push(description);
  return parts.join('\n\n');
}

export function visibleFlags(command) {
  return Object.values(command.flags ?? {}).filter((flag) => !flag.hidden);
}

export function visibleArgs(command) {
  return Object.values(command.args ?? {}).filter((arg) => !arg.hidden);
}

export function argName(arg) {
  return arg.name.toUpperCase().replace(/_/g, '-');
}

export function flagValue(flag) {
  if (flag.type !== 'option') return '';
  if (flag.helpValue) return flag.helpValue;
  if (flag.options?.length) return flag.options.join('|');
  return flag.name.toUpperCase();
}

export function formatDefault(value) {
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The facts oclif's help prints after a flag's text: default, choices, repeatable, ...
 * A fact the flag's own text already states (`repeatable; read in order`) is not repeated.
 */
export function flagFacts(flag, text) {
  const said = text.toLowerCase();
  const facts = [];
  if (flag.options?.length && !flag.options.every((option) => said.includes(String(option).toLowerCase()))) facts.push(`One of: ${flag.options.join(', ')}.`);
  if (flag.default !== undefined && flag.default !== false && flag.type === 'option' && !said.includes('default')) facts.push(`Default: ${formatDefault(flag.default)}.`);
  if (flag.multiple && !said.includes('repeatable')) facts.push('Repeatable.');
  if (flag.required) facts.push('Required.');
  if (flag.dependsOn?.length) facts.push(`Requires ${flag.dependsOn.map((name) => `--${name}`).join(', ')}.`);
  if (flag.exclusive?.length) facts.push(`Cannot be used with ${flag.exclusive.map((name) => `--${name}`).join(', ')}.`);
  if (flag.env) facts.push(`Environment: ${flag.env}.`);
  if (flag.deprecated) facts.push('Deprecated.');
  return facts.join(' ');
}

/** Examples are {description, command} objects, or strings: a command, or text then `$ command` lines. */
export function normaliseExamples(command) {
  return (command.examples ?? []).map((example) => {
    if (typeof example !== 'string') {
      return { description: fill(example.description ?? '', command.id).trim(), command: fill(example.command ?? '', command.id).trim().replace(/^\$ /, '') };
    }
    const text = fill(example, command.id).trim();
    const lines = text.split('\n');
    const at = lines.findIndex((line) => /^\s*\$ /.test(line) || /^\s*op(\s|$)/.test(line));
    if (lines.length > 1 && at > 0) {
      return { description: lines.slice(0, at).join(' ').trim(), command: lines.slice(at).map((line) => line.replace(/^\s*\$ /, '')).join('\n') };
    }
    return { description: '', command: text.replace(/^\$ /, '') };
  });
}

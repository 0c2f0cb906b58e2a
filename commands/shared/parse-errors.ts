import { UsageError } from '../../src/core/errors.js';
import { suggestName } from './suggest-name.js';

/** A flag value that does not parse; `reason` is the whole line the user sees. */
export class FlagValueError extends UsageError {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'FlagValueError';
  }
}

interface FlagShape {
  name?: string;
  char?: string;
  helpValue?: string | string[];
  type?: string;
  dependsOn?: string[];
  exclusive?: string[];
  required?: boolean;
}

/**
 * What oclif's parser attaches to the errors it throws. Its error classes are not exported
 * by @oclif/core, so they are told apart by these fields, not by class.
 */
interface ParseFailure extends Error {
  parse?: { input?: { flags?: Record<string, FlagShape> }; output?: { flags?: Record<string, unknown> } };
  flags?: unknown[];
  args?: unknown[];
}

/**
 * oclif's parse errors (`The following error occurred: All of the following must be
 * provided when using --max-errors: --errors`) as one line in opkit's words
 * (`--max-errors needs --errors FILE`), worked out from the flags' metadata, so every
 * flag with a dependsOn, an exclusive or a number gets the same wording.
 */
export function describeParseError(error: ParseFailure, flags: Record<string, FlagShape>): string {
  if (error instanceof FlagValueError) return error.reason;
  const defs = error.parse?.input?.flags ?? flags;
  if (Array.isArray(error.flags) && error.flags.every((flag) => typeof flag === 'string')) return describeUnknownFlags(error.flags as string[], defs);
  if (Array.isArray(error.args)) {
    const words = error.args.map((arg) => (typeof arg === 'string' ? arg : String((arg as { name?: string }).name ?? '').toUpperCase()));
    if (error.args.every((arg) => typeof arg === 'string')) return `unexpected argument${words.length === 1 ? '' : 's'}: ${words.join(' ')} (quote a HANDLER with spaces as one word)`;
    return `missing ${words.join(' ')}`;
  }
  const given = error.parse?.output?.flags;
  if (given !== undefined) {
    const reasons = describeRelations(defs, given);
    if (reasons.length > 0) return reasons.join('; ');
  }
  const option = /^Expected --([\w-]+)=(.*) to be one of: (.*)$/m.exec(error.message);
  if (option) return `--${option[1]} must be one of ${option[3]}, got ${option[2]}`;
  const expects = /Flag --([\w-]+) expects a value/.exec(error.message);
  if (expects?.[1] !== undefined) return `--${expects[1]} needs a value${valueWord(defs[expects[1]])}`;
  return firstLine(error.message);
}

function describeUnknownFlags(words: string[], defs: Record<string, FlagShape>): string {
  const names = Object.keys(defs).map((name) => `--${name}`);
  return words
    .map((word) => {
      const bare = word.replace(/=.*$/, '');
      const guess = suggestName(bare, names);
      return `unknown flag ${bare}${guess ? `; did you mean ${guess}?` : ''}`;
    })
    .join('; ');
}

/** The dependsOn, exclusive and required rules the given flags break, in declaration order. */
function describeRelations(defs: Record<string, FlagShape>, given: Record<string, unknown>): string[] {
  const reasons: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (given[name] === undefined) {
      if (def.required) reasons.push(`--${name}${valueWord(def)} is required`);
      continue;
    }
    const missing = (def.dependsOn ?? []).filter((other) => given[other] === undefined);
    if (missing.length > 0) reasons.push(`--${name} needs ${missing.map((other) => `--${other}${valueWord(defs[other])}`).join(' and ')}`);
    const clash = (def.exclusive ?? []).filter((other) => given[other] !== undefined);
    if (clash.length > 0) reasons.push(`--${name} cannot be used with ${clash.map((other) => `--${other}`).join(', ')}`);
  }
  return [...new Set(reasons)];
}

function valueWord(def: FlagShape | undefined): string {
  if (def?.type !== 'option') return '';
  const value = Array.isArray(def.helpValue) ? def.helpValue.join('|') : def.helpValue;
  return value ? ` ${value}` : '';
}

/** oclif's fallback texts, cut to their first sentence: `Parsing --x \n\t…\nSee more help with --help`. */
function firstLine(message: string): string {
  const text = message.replace(/\s*See more help with --help\s*$/, '').replace(/^Parsing (--[\w-]+)\s*\n\t/, '$1: ');
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

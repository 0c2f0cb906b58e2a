import { UsageError } from '../core/errors.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { resolveRank } from '../core/resolve-rank.js';
import type { MergeOptions } from './run-merge.js';

/** The flags `op merge` parses (commands/merge.ts), and its FILES as typed. */
export interface MergeFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  'round-robin': boolean;
  key?: string | undefined;
  numeric: boolean;
  reverse: boolean;
}

/** Flags, FILES and environment → the options of runMerge; every mistake is a one-line usage error. */
export function mergeOptions(flags: MergeFlags, files: readonly string[], env: NodeJS.ProcessEnv): MergeOptions {
  const unknown = files.find((file) => /^--?[A-Za-z]/.test(file));
  if (unknown !== undefined) throw new UsageError(`Nonexistent flag: ${unknown}`);
  if (flags.key === '') throw new UsageError('--key needs a field name');
  if (flags.key !== undefined && flags['round-robin']) throw new UsageError('--round-robin and --key are two different merges: pick one');
  if (flags.key === undefined && (flags.numeric || flags.reverse)) throw new UsageError(`--${flags.numeric ? 'numeric' : 'reverse'} orders the keys of --key FIELD, which is missing`);
  const inputs = [...(flags.in ?? []), ...files];
  // Resolved only when used: a half-set launcher environment must not fail a plain merge.
  const output = flags.out?.includes('{') ? fillRankTemplate(flags.out, resolveRank({}, env, { required: false })) : flags.out;
  return {
    inputs: inputs.length ? inputs : ['-'],
    output,
    mode: flags.key !== undefined ? 'key' : flags['round-robin'] ? 'round-robin' : 'concat',
    key: flags.key === undefined ? undefined : { field: flags.key, numeric: flags.numeric, reverse: flags.reverse },
  };
}

import { Args, Flags } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { OpCommand } from './base-command.js';
import { EXAMPLE_FILES } from './example-files.js';
import { ioFlags, reportFlags } from './base-flags.js';

export default class MergeCommand extends OpCommand {
  static override summary = 'Merge NDJSON inputs into one: concatenate, interleave, or k-way merge by a key.';
  static override description = `FILES are read in argument order; - is stdin (and so is no FILE at all). A quoted glob ('out.*.ndjson') is expanded by op itself, in natural order: out.2 before out.10. A glob that matches nothing, or a missing file, is a usage error (exit 2). Blank lines are dropped, a byte-order mark at the start of an input is dropped, and a last line without a newline gets one, so two records are never glued together.

By default the inputs are concatenated, as bytes.

--round-robin takes one record from each input in turn, skipping inputs that are done. It restores the original order of index shares (op shard --rank r --world w) after stages that keep one output per input record.

--key FIELD merges inputs that are each sorted by the top-level FIELD, streaming, with memory bounded by the number of inputs: a binary heap holds one record per input. Equal keys come out in input order (stable). Keys compare as strings (a string is its own key, any other value its JSON text; JavaScript code-unit order), or as numbers with --numeric (JSON numbers, or strings holding a decimal number); --reverse for inputs sorted in descending order. A record without FIELD, a line that is not JSON, or an input out of order stops the merge with the file and line, exit 1; the output written before it is whole lines. Records are written as they were read.

Restoring input order after processing shares apart: op shard --seq _i stamps each record with its index, and op merge --key _i --numeric puts them back in order, even when a stage dropped some.

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Concatenate the outputs of all ranks, out.2 before out.10.', command: `op merge 'out.*.ndjson' > all.ndjson` },
    { description: 'Interleave index shares back into input order.', command: `op merge --round-robin out.0.ndjson out.1.ndjson out.2.ndjson` },
    { description: 'Restore input order by a --seq stamp, then drop it.', command: `op merge --key _i --numeric 'out-*.ndjson' | op map '(delete r._i, r)'` },
    { description: 'Merge logs sorted by time, newest first.', command: `op merge --key ts --numeric --reverse a.ndjson b.ndjson -` },
  ];
  static override args = {
    files: Args.string({ required: false, ignoreStdin: true, description: 'Input files, - for stdin, or quoted globs (default: stdin).' }),
  };
  static override flags = {
    ...ioFlags,
    'round-robin': Flags.boolean({ summary: 'One record from each input in turn, skipping inputs that are done.', helpGroup: 'MERGE' }),
    key: Flags.string({ summary: 'k-way merge of inputs each sorted by FIELD (stable, streaming).', helpValue: 'FIELD', helpGroup: 'MERGE' }),
    numeric: Flags.boolean({ summary: 'With --key: compare keys as numbers.', helpGroup: 'MERGE' }),
    reverse: Flags.boolean({ summary: 'With --key: inputs are sorted in descending order.', helpGroup: 'MERGE' }),
    ...reportFlags,
  };
  // Any number of FILES.
  static override strict = false;

  async run(): Promise<void> {
    const { raw, flags } = await this.parse(MergeCommand);
    // From the raw tokens: oclif's argv moves a repeated FILE next to its first occurrence.
    const files = raw.flatMap((token) => (token.type === 'arg' ? [token.input] : []));
    const unknown = files.find((file) => /^--?[A-Za-z]/.test(file));
    if (unknown !== undefined) throw new UsageError(`Nonexistent flag: ${unknown}`);
    if (flags.key === '') throw new UsageError('--key needs a field name');
    if (flags.key !== undefined && flags['round-robin']) throw new UsageError('--round-robin and --key are two different merges: pick one');
    if (flags.key === undefined && (flags.numeric || flags.reverse)) throw new UsageError(`--${flags.numeric ? 'numeric' : 'reverse'} orders the keys of --key FIELD, which is missing`);
    const inputs = [...(flags.in ?? []), ...files];
    const { runMerge } = await import('../src/merge/run-merge.js');
    process.exitCode = await runMerge({
      inputs: inputs.length ? inputs : ['-'],
      output: flags.out,
      env: process.env,
      mode: flags.key !== undefined ? 'key' : flags['round-robin'] ? 'round-robin' : 'concat',
      key: flags.key === undefined ? undefined : { field: flags.key, numeric: flags.numeric, reverse: flags.reverse },
    });
  }

}

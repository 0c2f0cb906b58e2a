import { Args, Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { ioFlags, reportFlags } from './base-flags.js';

export default class MergeCommand extends OpCommand {
  static override summary = 'Merge NDJSON inputs into one: concatenate, interleave, or k-way merge by a key.';
  static override description = `FILES are read in argument order; - is stdin (and so is no FILE at all). A quoted glob ('out.*.ndjson') is expanded by op itself, in natural order: out.2 before out.10. A glob that matches nothing, or a missing file, is a usage error (exit 2). Blank lines are dropped, a byte-order mark at the start of an input is dropped, and a last line without a newline gets one, so two records are never glued together. A gzip input (known by its first two bytes) is decompressed; --out FILE.gz is written as gzip.

By default the inputs are concatenated, as bytes.

--round-robin takes one record from each input in turn, skipping inputs that are done. It restores the original order of index shares (op shard --rank r --world w) after stages that keep one output per input record.

--key FIELD merges inputs that are each sorted by the top-level FIELD, streaming, with memory bounded by the number of inputs: a binary heap holds one record per input. Equal keys come out in input order (stable). Keys compare as jq sorts values: null < false < true < numbers < strings < arrays < objects; numbers as numbers (6 before 10), strings by Unicode code point (LC_ALL=C sort order), arrays element by element, objects by their sorted keys, then their values. --numeric also reads strings holding a decimal number ("10") as numbers, and refuses keys that are neither. --reverse for inputs sorted in descending order. A record without FIELD, a line that is not JSON or not UTF-8, or an input out of order stops the merge with the file and line, exit 1; the output written before it is whole lines. Records are written as they were read.

Restoring input order after processing shares apart: op shard --seq _i stamps each record with its index, and op merge --key _i puts them back in order, even when a stage dropped some.

An input that is also the output (--out, or stdout redirected into a file that a FILE or glob names) is refused before anything is opened, exit 2: files are compared by device and inode, so a symlink or ./F is the same file. On SIGINT or SIGTERM the output ends on a whole line, exit 130 or 143.

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Concatenate the outputs of all ranks, out.2 before out.10.', command: `op merge 'out.*.ndjson' > all.ndjson` },
    { description: 'Interleave index shares back into input order.', command: `op merge --round-robin out.0.ndjson out.1.ndjson out.2.ndjson` },
    { description: 'Restore input order by a --seq stamp, then drop it.', command: `op merge --key _i 'out-*.ndjson' | op map '(delete r._i, r)'` },
    { description: 'Merge logs sorted by time, newest first.', command: `op merge --key ts --reverse a.ndjson b.ndjson -` },
    { description: 'Merge by a key written as a string of digits.', command: `op merge --key id --numeric a.ndjson b.ndjson` },
  ];
  static override args = {
    files: Args.string({ required: false, ignoreStdin: true, description: 'Input files, - for stdin, or quoted globs (default: stdin).' }),
  };
  static override flags = {
    ...ioFlags,
    'round-robin': Flags.boolean({ summary: 'One record from each input in turn, skipping inputs that are done.', helpGroup: 'MERGE' }),
    key: Flags.string({ summary: 'k-way merge of inputs each sorted by FIELD (stable, streaming).', helpValue: 'FIELD', helpGroup: 'MERGE' }),
    numeric: Flags.boolean({ summary: 'With --key: read strings holding a decimal number as numbers.', helpGroup: 'MERGE' }),
    reverse: Flags.boolean({ summary: 'With --key: inputs are sorted in descending order.', helpGroup: 'MERGE' }),
    ...reportFlags,
  };
  // Any number of FILES.
  static override strict = false;

  async run(): Promise<void> {
    const { raw, flags } = await this.parse(MergeCommand);
    // From the raw tokens: oclif's argv moves a repeated FILE next to its first occurrence.
    const files = raw.flatMap((token) => (token.type === 'arg' ? [token.input] : []));
    const { mergeOptions } = await import('../src/merge/merge-options.js');
    const { runMerge } = await import('../src/merge/run-merge.js');
    process.exitCode = await runMerge(mergeOptions(flags, files, process.env));
  }

}

import { Args, Flags } from '@oclif/core';
import { HandlerCommand } from './base-handler.js';
import { commandProtocol } from './shared/command-protocol.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { commandFlags, handlerFlags, wholeNumber } from './base-flags.js';

const { 'input-format': _inputFormat, ...batchHandlerFlags } = handlerFlags;

export default class BatchCommand extends HandlerCommand {
  static override summary = 'Group consecutive records into arrays, optionally through HANDLER(records).';
  static override description = `A batch is flushed when it holds --size records, when adding a record would pass --bytes of serialised records (a single larger record forms its own batch), when --wait milliseconds have passed since its first record arrived (so a slow or live input still flows), and always at end of input. At least one of --size, --bytes and --wait is needed.

Without HANDLER each batch is written as one JSON array per line; op slice turns it back into the records. With HANDLER (an expression over r, the array, or a function or module, as for op map) the handler receives the array and returns the output records, an array or (async) iterable, written one per line. A batch that fails is retried as a whole; with --errors each of its records is dead-lettered with the batch's error.

${commandProtocol('batch')}

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Arrays of 2 records.', command: `$ printf '{"a":1}\\n{"a":2}\\n{"a":3}\\n' | op batch --size 2` },
    { description: 'Batches for a model that wants 32 at a time.', command: `op batch --size 32 ./embed.ts --workers 2 < texts.ndjson > vectors.ndjson` },
    { description: 'A model served by a Python program that takes 32 records per line and answers with an array.', command: `op batch --size 32 -w 2 -- python3 embed.py < texts.ndjson > vectors.ndjson` },
    { description: 'At most 1 MiB per batch, and never older than 200 ms on a live stream.', command: `$ tail -f events.ndjson | op batch --bytes 1M --wait 200` },
    { description: 'Batch, then restore the records: byte for byte when the input is compact JSON (as JSON.stringify writes it); otherwise equal as values.', command: `op batch --size 100 < data.ndjson | op slice > same.ndjson` },
  ];
  static override args = {
    handler: Args.string({ required: false, ignoreStdin: true, description: 'Expression, function, or module path; receives the array of records.' }),
  };
  static override flags = {
    size: wholeNumber({ summary: 'Records per batch.', helpValue: 'N', min: 1, helpGroup: 'BATCH' }),
    bytes: Flags.string({ summary: 'Serialised bytes per batch (65536, 64K, 1M).', helpValue: 'B', helpGroup: 'BATCH' }),
    wait: wholeNumber({ summary: "Flush a batch MS milliseconds after its first record, full or not.", helpValue: 'MS', min: 0, helpGroup: 'BATCH' }),
    ...batchHandlerFlags,
    ...commandFlags,
  };
  protected readonly kind = 'batch' as const;
  protected override readonly handlerOptional = true;
}

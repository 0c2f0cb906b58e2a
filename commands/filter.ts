import { Args } from '@oclif/core';
import { HandlerCommand } from './base-handler.js';
import { commandProtocol } from './shared/command-protocol.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { commandFlags, handlerFlags } from './base-flags.js';

export default class FilterCommand extends HandlerCommand {
  static override summary = 'Keep the records for which HANDLER(record) is truthy.';
  static override description = `Kept records are written exactly as they were read, byte for byte; the others are counted as dropped.

HANDLER is an expression over r, i and ctx, a function, or a module path, as for op map.

${commandProtocol('filter')}

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Keep high scores.', command: `$ printf '{"score":0.2}\\n{"score":0.9}\\n' | op filter 'r.score > 0.5'` },
    { description: 'Every tenth record.', command: `op filter 'i % 10 === 0' < data.ndjson` },
    { description: 'An async predicate, eight at a time.', command: `op filter ./is-live.ts -c 8 < urls.ndjson` },
    { description: 'Any program that answers one JSON value per line decides; records are kept as read.', command: `op filter -w 2 -- jq -c --unbuffered '.score > 0.5' < data.ndjson` },
  ];
  static override args = {
    handler: Args.string({ required: false, ignoreStdin: true, description: 'Expression, function, or module path.' }),
  };
  static override flags = { ...handlerFlags, ...commandFlags };
  protected readonly kind = 'filter' as const;
}

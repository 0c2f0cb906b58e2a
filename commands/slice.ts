import { Args } from '@oclif/core';
import { HandlerCommand } from './base-handler.js';
import { commandProtocol } from './shared/command-protocol.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { commandFlags, handlerFlags } from './base-flags.js';

export default class SliceCommand extends HandlerCommand {
  static override summary = 'Turn each record into zero or more records.';
  static override description = `HANDLER returns an array, an iterable or an async iterable; each element is written as one record. A record that yields nothing is counted as dropped.

Without HANDLER, array records are flattened into their elements (the inverse of op batch) and any other record passes through unchanged.

${commandProtocol('slice')}

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'One record per tag.', command: `op slice 'r.tags.map(tag => ({id: r.id, tag}))' < data.ndjson` },
    { description: 'Flatten arrays of records.', command: `$ echo '[{"a":1},{"a":2}]' | op slice` },
    { description: 'A Python generator, one record per tag (python/opkit.py under --protocol json).', command: `op slice --protocol json -- python3 tags.py < data.ndjson` },
    { description: 'A generator function.', command: `op slice 'function* (r) { for (let k = 0; k < r.n; k++) yield {k} }' < counts.ndjson` },
  ];
  static override args = {
    handler: Args.string({ required: false, ignoreStdin: true, description: 'Expression, function, or module path; flattens arrays when omitted.' }),
  };
  static override flags = { ...handlerFlags, ...commandFlags };
  protected readonly kind = 'slice' as const;
  protected override readonly handlerOptional = true;
}

import { Args } from '@oclif/core';
import { HandlerCommand } from './base-handler.js';
import { commandProtocol } from './shared/command-protocol.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { commandFlags, handlerFlags } from './base-flags.js';

export default class MapCommand extends HandlerCommand {
  static override summary = 'Transform each record: the output is HANDLER(record).';
  static override description = `Writes one output record per input record. A result of undefined drops the record (counted as dropped); JSON null is a record like any other.

HANDLER is an expression over r (the record), i (its 0-based index) and ctx; a function such as 'async (r, ctx) => …'; or a module path (.js .mjs .cjs .ts .mts) whose default export is the handler, with optional setup(ctx) and teardown(ctx) exports. TypeScript modules load without a build step.

${commandProtocol('map')}

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Add a field computed from another.', command: `$ echo '{"name":"Ada"}' | op map '({...r, n: r.name.length})'` },
    { description: 'Double a score in place.', command: `op map '(r.s2 = r.score * 2, r)' < data.ndjson > out.ndjson` },
    { description: 'Read and write gzip: the input by its first bytes, the output by its .gz name.', command: `op map ./clean.ts --in day.ndjson.gz --out clean.ndjson.gz` },
    { description: 'Keep going past failures, dead-lettering them.', command: `op map ./enrich.ts -c 8 --retries 2 --errors failed.ndjson < jobs.ndjson` },
    { description: 'Survive kill -9: run the same command again to resume; journaled records are not run again.', command: `op map ./enrich.ts -c 8 --journal run.journal --errors failed.ndjson < jobs.ndjson > out.ndjson` },
    { description: 'A Python operator as 4 child processes, speaking --protocol json through the package’s python/opkit.py.', command: `op map -w 4 --protocol json --config '{"threshold":0.9}' -- python3 score.py < people.ndjson > scored.ndjson` },
    { description: 'jq as the handler, on two cores, output byte for byte as jq writes it.', command: `op map -w 2 -- jq -c --unbuffered '.s2 = .score * 2' < data.ndjson` },
    {
      description: 'Consume a Redis Streams work queue on any number of hosts; each result is stored with its input exactly once, failures go to :dead (see op queue).',
      command: `op map ./enrich.ts -w auto --from redis://10.0.0.5/jobs --to redis://10.0.0.5/jobs --drain`,
    },
  ];
  static override args = {
    handler: Args.string({ required: false, ignoreStdin: true, description: 'Expression, function, or module path.' }),
  };
  static override flags = { ...handlerFlags, ...commandFlags };
  protected readonly kind = 'map' as const;
}

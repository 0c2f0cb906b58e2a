import { Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { ioFlags, reportFlags, wholeNumber } from './base-flags.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { listLauncherVariables } from './shared/launcher-variables.js';

export default class ShardCommand extends OpCommand {
  static override summary = "Keep this rank's share of the records: record i when i % world == rank.";
  static override description = `Splits one stream among WORLD processes (ranks 0 to WORLD-1) so that together they see every record exactly once. Blank lines are not records and take no index; a byte-order mark at the start of an input is not part of its first record; an input without a final newline gets one.

--by index (the default) keeps record i (0-based, counted over all inputs) when i % WORLD == RANK. Lines are routed as bytes and never parsed.

--by key:FIELD keeps a record when hash(record[FIELD]) % WORLD == RANK, so every record with the same key lands on the same rank. FIELD is a top-level field name. The hash, reproducible in any language: take the value itself when it is a JSON string, else its JSON text as written by ECMAScript JSON.stringify (1.0 is 1, 1e21 is 1e+21; so the string "42" and the number 42 hash alike); encode it as UTF-8; hash the bytes with FNV-1a 32-bit (h = 0x811c9dc5; for each byte, h = (h XOR byte) * 0x01000193 mod 2^32); the rank is h mod WORLD. Examples: "a" hashes to 0xe40c292c, 42 to 0x87e38583 (as the bytes 42). A record without FIELD, or one that is not an object, goes to rank 0. A line that is not JSON stops the run: stdin:LINE: SyntaxError, exit 1.

--seq FIELD writes each object record's global input index (0-based) into FIELD before the split, so op merge --key FIELD restores the input order after the shares were processed apart. Records that are not objects pass unstamped. --seq parses every record.

Rank and world come from --rank and --world, else from the environment, first found: ${listLauncherVariables()} (with the world from --world or OP_WORLD_SIZE). A missing rank, a world below 1 or a rank not below the world is a usage error (exit 2). {rank} and {world} in --out are filled in.

An input that is also an output (--out, stdout redirected, or a --split file) is refused before anything is opened, exit 2: files are compared by device and inode, so a symlink or ./F is the same file. On SIGINT or SIGTERM every output ends on a whole line, exit 130 or 143.

--split TEMPLATE writes every share at once, to the files TEMPLATE names with {rank} filled in (and {world}); it needs --world and no rank. Files whose names end in .gz (with --split or --out) are written as gzip; gzip input is decompressed.

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Keep the records of rank 1 of 4.', command: `op shard --rank 1 --world 4 < data.ndjson > part.1.ndjson` },
    { description: 'Under Slurm or torchrun, rank and world come from the environment.', command: `op shard < data.ndjson | op map ./embed.ts > out.$RANK.ndjson` },
    { description: 'All records of a user on one rank.', command: `op shard --by key:user --rank 0 --world 8 < events.ndjson` },
    { description: 'Write all four shares at once.', command: `op shard --split 'part-{rank}.ndjson' --world 4 < data.ndjson` },
    {
      description: 'Process shares apart, then restore input order.',
      command: `op shard --split 'in-{rank}.ndjson' --world 4 --seq _i < data.ndjson; for r in 0 1 2 3; do op map ./work.ts < in-$r.ndjson > out-$r.ndjson & done; wait; op merge --key _i 'out-*.ndjson'`,
    },
  ];
  static override flags = {
    ...ioFlags,
    rank: wholeNumber({ summary: 'This process is rank N (0-based); default: from the environment.', helpValue: 'N', min: 0, helpGroup: 'SHARDING' }),
    world: wholeNumber({ summary: 'Number of ranks; default: from the environment.', helpValue: 'M', helpGroup: 'SHARDING' }),
    by: Flags.string({ summary: 'index: record i % world. key:FIELD: FNV-1a hash of record[FIELD] % world.', helpValue: 'index|key:FIELD', default: 'index', helpGroup: 'SHARDING' }),
    split: Flags.string({ summary: 'Write every share at once, to files named by {rank}; needs --world.', helpValue: 'TEMPLATE', helpGroup: 'SHARDING' }),
    seq: Flags.string({ summary: "Stamp each object record's global input index into FIELD, for op merge --key.", helpValue: 'FIELD', helpGroup: 'SHARDING' }),
    ...reportFlags,
  };
  static override strict = true;

  async run(): Promise<void> {
    const { flags } = await this.parse(ShardCommand);
    const { shardOptions } = await import('../src/shard/shard-options.js');
    const { runShard } = await import('../src/shard/run-shard.js');
    process.exitCode = await runShard(shardOptions(flags, process.env));
  }

}

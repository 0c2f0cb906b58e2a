import { Args, Flags } from '@oclif/core';
import { OpCommand, leaveWhenDone } from './base-command.js';
import { handlerFlags, ioFlags } from './base-flags.js';

const { errors, 'max-errors': maxErrors, retries, 'retry-delay': retryDelay, timeout, id, progress, debug } = handlerFlags;

export default class ReduceCommand extends OpCommand {
  static override summary = 'Aggregate records by key: counts, sums and more, or your own reducer, over whole inputs or windows.';
  static override description = `Groups records by --key (one or more field paths such as user or geo.country; a missing field groups as null) and writes one record per group and window, such as {"key":{"user":"ann"},"window":{"start":…,"end":…},"count":3,"sum_score":1.5}. Records without a window have no "window" field.

WHAT IS COMPUTED, exactly one of --agg, --collect and a handler.

--agg LIST: built-in aggregates, in the order given: count, sum:F, mean:F, min:F, max:F, first:F, last:F, distinct:F (a count of distinct values) and collect:F (an array), named count, sum_F, mean_F, … with F as written. F is a field path (a.b). A missing or null field is skipped; sum and mean take numbers (and strings that are numbers), min and max numbers (before strings) and strings; any other value fails the record. mean is exact: a sum and a count, merged as such.

--collect: the group's records as one array, in "records".

A handler: --init EXPR (each group's starting accumulator; an expression over key and ctx, or a function (key, ctx) => acc), --step '(acc, r, ctx) => acc' (or an expression over acc, r and ctx), an optional --merge '(a, b) => acc' that combines two partial results, and an optional --final '(acc, key) => out'. Or MODULE, a .js/.mjs/.cjs/.ts/.mts file exporting init (a function or a starting value), step, merge and final. The result is in "value". step may be async; init, merge and final are synchronous. Record data is only ever passed as arguments, never evaluated.

ORDER. Without a window, groups are written at end of input, in the order their keys first appeared. With a window, a window's groups are written when it closes, ordered by window end, then by the order their keys first appeared (sessions: their first records).

WINDOWS (--window). count:N: per key, every N records; "window" holds the input record indexes (0-based) of its first record and one past its last. tumbling:D: fixed windows of D aligned to the epoch, [k·D, (k+1)·D). sliding:D/STEP: windows of D starting every STEP; a record is in each window that holds its time. session:GAP: per key, records less than GAP apart form one session, whose window is [first time, last time + GAP); a record inside the gap extends the session (and may join two). Durations: 500ms, 30s, 1m, 1h, 1d, or a number of ms. Window start and end are epoch milliseconds.

TIME. --time FIELD takes event time from the record: a number (or numeric string) below 100,000,000,000 is epoch seconds (fractions kept), a larger one epoch milliseconds; a string in ISO-8601 form (2024-05-01, 2024-05-01T12:00:00.5, with Z or ±hh:mm) is that instant, UTC when it has no zone. Anything else fails the record (stage "time"). Without --time, windows use arrival time, and a window closes on a timer even when no record arrives.

WATERMARK. The highest time seen minus --lateness (default 0). A window closes when the watermark reaches its end; every open window closes at end of input (and on SIGINT/SIGTERM, which stop reading). A record whose windows have all closed is late: by default it is a failed record with stage "late" (a dead letter with --errors, else the run stops); --late drop drops it, --late reopen opens its window again, which closes at once as an extra partial result. Late records are counted in --stats ("late", and "dropped" for --late drop).

MEMORY. Held state is estimated as it grows and bounded by --max-memory (default 512MiB; K, M, G and KiB, MiB, GiB are binary, KB, MB, GB decimal). Without a window, groups that can merge (built-in aggregates, --collect, or a handler with --merge; its accumulator must be JSON) then spill their partial results to files in --spill-dir, merged at end of input with the order kept. A handler without --merge stops with an error naming --merge. Open windows never spill: past the limit the run stops. The process's resident memory is above the limit by the runtime's own (about 60 MB) and garbage-collection headroom.

WORKERS. -w N reduces in N worker threads, each holding the state of the keys that hash to it, by the hash of op shard --by key:FIELD (FNV-1a of the value itself when it is a string, else its JSON text; several key fields hash their JSON texts joined by commas; a record without the field hashes as null). Each worker gets --max-memory / N and spills on its own. Output order is then fixed: worker 0's groups first, then worker 1's, and so on, each worker's in the order its keys first appeared. -w does not combine with --window.

--stats prints {"in","out","dropped","late","errors","retries","spills","ms"} on stderr, where out counts groups written. Failed records go to --errors FILE as for op map; exit 3 if any.`;
  static override examples = [
    { description: 'Count and total score per user.', command: `op reduce --key user --agg count,sum:score < events.ndjson` },
    { description: 'Per minute of event time, allowing records 30 s out of order.', command: `op reduce --key user --agg count,max:ms --window tumbling:1m --time ts --lateness 30s < events.ndjson` },
    { description: 'A live count per second of arrival time.', command: `$ tail -f access.ndjson | op reduce --key status --agg count --window tumbling:1s` },
    { description: 'Sessions of activity per user, 30 minutes apart.', command: `op reduce --key user --collect --window session:30m --time ts < clicks.ndjson` },
    { description: 'Your own reducer, which may spill since it can merge.', command: `op reduce --key host --init '({n: 0, bytes: 0})' --step '(a, r) => ({n: a.n + 1, bytes: a.bytes + r.bytes})' --merge '(a, b) => ({n: a.n + b.n, bytes: a.bytes + b.bytes})' < log.ndjson` },
    { description: 'A module exporting init, step, merge and final.', command: `op reduce --key user ./top-pages.ts < views.ndjson` },
  ];
  static override args = {
    module: Args.string({ required: false, ignoreStdin: true, description: 'A module exporting init, step, merge and final (the handler form).' }),
  };
  static override flags = {
    key: Flags.string({ char: 'k', summary: 'Group by these field paths (a.b), comma-separated.', helpValue: 'FIELD[,FIELD…]', helpGroup: 'REDUCE' }),
    agg: Flags.string({ summary: 'Built-in aggregates: count, sum:F, mean:F, min:F, max:F, first:F, last:F, distinct:F, collect:F.', helpValue: 'LIST', helpGroup: 'REDUCE' }),
    collect: Flags.boolean({ summary: "One array of each group's records, in \"records\".", helpGroup: 'REDUCE' }),
    init: Flags.string({ summary: "Each group's starting accumulator: an expression over key and ctx, or a function.", helpValue: 'EXPR', helpGroup: 'HANDLER' }),
    step: Flags.string({ summary: 'The next accumulator: an expression over acc, r and ctx, or (acc, r, ctx) => acc.', helpValue: 'EXPR', helpGroup: 'HANDLER' }),
    merge: Flags.string({ summary: 'Combine two partial accumulators: (a, b) => acc. Lets state spill to disk.', helpValue: 'EXPR', helpGroup: 'HANDLER' }),
    final: Flags.string({ summary: 'The output "value" of a group: (acc, key) => out (default: acc).', helpValue: 'EXPR', helpGroup: 'HANDLER' }),
    window: Flags.string({ summary: 'count:N, tumbling:D, sliding:D/STEP or session:GAP.', helpValue: 'SPEC', helpGroup: 'WINDOWS' }),
    time: Flags.string({ summary: 'Event time from FIELD: epoch s, epoch ms or ISO-8601 (default: arrival time).', helpValue: 'FIELD', helpGroup: 'WINDOWS' }),
    lateness: Flags.string({ summary: 'The watermark trails the highest time seen by D.', helpValue: 'D', default: '0', helpGroup: 'WINDOWS' }),
    late: Flags.option({ summary: 'What to do with a record whose windows have closed.', options: ['dead-letter', 'drop', 'reopen'] as const, default: 'dead-letter' as const, helpGroup: 'WINDOWS' })(),
    'max-memory': Flags.string({ summary: 'Bound on held state; past it mergeable groups spill to disk.', helpValue: 'SIZE', default: '512MiB', helpGroup: 'MEMORY' }),
    'spill-dir': Flags.string({ summary: 'Where spill files go (default: the system temp directory).', helpValue: 'DIR', helpGroup: 'MEMORY' }),
    ...ioFlags,
    workers: Flags.string({ char: 'w', summary: 'Reduce in N worker threads, each holding the keys that hash to it (without --window). At most 4 per core and one per 64 MiB of memory: a larger N is capped, with a note on stderr.', helpValue: 'N|auto', helpGroup: 'EXECUTION' }),
    errors,
    'max-errors': maxErrors,
    retries,
    'retry-delay': retryDelay,
    timeout,
    id,
    config: Flags.string({ summary: 'Operator options as JSON or a JSON file; handlers read them as ctx.config.', helpValue: 'FILE|JSON', helpGroup: 'HANDLER' }),
    stats: Flags.boolean({ summary: 'Print a JSON summary on stderr at the end: in, out (groups), dropped, late, errors, retries, spills, ms.', helpGroup: 'REPORTING' }),
    progress,
    debug,
  };
  static override strict = true;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ReduceCommand);
    const { reduceOptions } = await import('../src/reduce/reduce-options.js');
    const { runReduce } = await import('../src/reduce/run-reduce.js');
    // Handler output must never reach stdout, which carries the records.
    console.log = console.info = console.debug = console.error;
    process.exitCode = await runReduce(reduceOptions(flags, args.module));
    leaveWhenDone();
  }
}

import { Flags } from '@oclif/core';
import { FlagValueError } from './shared/parse-errors.js';

/**
 * An integer flag that reports a bad value in opkit's words, from its own metadata:
 * `--timeout must be a whole number of ms ≥ 1, got -5` (helpValue MS names the unit).
 */
export const wholeNumber = Flags.custom<number, { min?: number; max?: number }>({
  async parse(input, _context, flag) {
    const value = /^-?\d+$/.test(input.trim()) ? Number(input) : Number.NaN;
    const inRange = Number.isSafeInteger(value) && (flag.min === undefined || value >= flag.min) && (flag.max === undefined || value <= flag.max);
    if (inRange) return value;
    const unit = flag.helpValue === 'MS' ? ' of ms' : '';
    const bounds = [flag.min === undefined ? '' : ` ≥ ${flag.min}`, flag.max === undefined ? '' : ` ≤ ${flag.max}`].join('');
    throw new FlagValueError(`--${flag.name} must be a whole number${unit}${bounds}, got ${input}`);
  },
});

/** Reporting flags of every command. */
export const reportFlags = {
  debug: Flags.boolean({
    summary: 'Show stack traces with errors.',
    helpGroup: 'REPORTING',
  }),
};

/** Input and output flags, shared by every command that reads and writes NDJSON. */
export const ioFlags = {
  in: Flags.string({
    summary: 'Read NDJSON from FILE instead of stdin; repeatable, read in order; - is stdin. gzip input (known by its first bytes) is decompressed.',
    helpValue: 'FILE',
    multiple: true,
    // Each --in takes one value, so HANDLER may follow it.
    multipleNonGreedy: true,
    helpGroup: 'INPUT/OUTPUT',
  }),
  out: Flags.string({
    summary: 'Write NDJSON to FILE instead of stdout; {rank} and {world} are filled in; a FILE ending in .gz is written as gzip.',
    helpValue: 'FILE',
    helpGroup: 'INPUT/OUTPUT',
  }),
};

/** Execution flags of every command that runs a HANDLER (DESIGN.md section 3). */
export const handlerFlags = {
  ...ioFlags,
  'input-format': Flags.option({
    summary: 'ndjson: one value per line. json: a top-level array, or concatenated values, parsed as a stream.',
    options: ['ndjson', 'json'] as const,
    default: 'ndjson' as const,
    helpGroup: 'INPUT/OUTPUT',
  })(),
  concurrency: wholeNumber({
    char: 'c',
    summary: 'Async handler calls in flight; output keeps input order unless --unordered.',
    helpValue: 'N',
    min: 1,
    default: 1,
    helpGroup: 'EXECUTION',
  }),
  workers: Flags.string({
    char: 'w',
    summary: 'Run the handler in N worker threads (auto: one per core); records travel in chunks. At most 4 per core and one per 64 MiB of memory (or the cgroup limit): a larger N is capped, with a note on stderr.',
    helpValue: 'N|auto',
    helpGroup: 'EXECUTION',
  }),
  unordered: Flags.boolean({
    summary: 'Write results as they complete instead of in input order.',
    helpGroup: 'EXECUTION',
  }),
  retries: wholeNumber({
    summary: 'Run a failing record again up to N more times.',
    helpValue: 'N',
    min: 0,
    default: 0,
    helpGroup: 'EXECUTION',
  }),
  'retry-delay': wholeNumber({
    summary: 'First retry delay in ms; doubles each attempt, with jitter.',
    helpValue: 'MS',
    min: 0,
    default: 100,
    helpGroup: 'EXECUTION',
  }),
  'stop-timeout': wholeNumber({
    summary: 'On SIGINT/SIGTERM, let records in flight finish for MS, then name them and exit.',
    helpValue: 'MS',
    min: 0,
    default: 10_000,
    helpGroup: 'EXECUTION',
  }),
  timeout: wholeNumber({
    summary: 'Fail a handler call after MS milliseconds; ctx.signal aborts.',
    helpValue: 'MS',
    min: 1,
    helpGroup: 'EXECUTION',
  }),
  errors: Flags.string({
    summary: 'Dead-letter failed records to FILE as NDJSON and keep going (exit 3 if any).',
    helpValue: 'FILE',
    helpGroup: 'ERRORS',
  }),
  'max-errors': wholeNumber({
    summary: 'With --errors: stop after N failed records (exit 1). Records already running finish first: with -w, up to N - 1 more may be dead-lettered; a failed batch counts all its records.',
    helpValue: 'N',
    min: 1,
    dependsOn: ['errors'],
    helpGroup: 'ERRORS',
  }),
  journal: Flags.string({
    summary: 'Journal each finished record to FILE (with --side, the side version it saw: "sideVersion"); rerun with the same FILE to resume where a killed run stopped.',
    helpValue: 'FILE',
    helpGroup: 'RESUME',
  }),
  fsync: Flags.option({
    summary: 'How durable journal entries are before their output is written (default batch: fsync every 100 records or second).',
    options: ['always', 'batch', 'never'] as const,
    dependsOn: ['journal'],
    helpGroup: 'RESUME',
  })(),
  'resume-failed': Flags.boolean({
    summary: 'Run the records the journal holds as dead-lettered again.',
    dependsOn: ['journal'],
    helpGroup: 'RESUME',
  }),
  force: Flags.boolean({
    summary: "Resume from a journal written by another handler, command, --id or op version.",
    dependsOn: ['journal'],
    helpGroup: 'RESUME',
  }),
  id: Flags.string({
    summary: 'Record field used as its id in errors, workdirs and journal keys (default: the line number).',
    helpValue: 'FIELD',
    helpGroup: 'HANDLER',
  }),
  config: Flags.string({
    summary: 'Operator options as JSON or a JSON file; reaches setup() and ctx.config.',
    helpValue: 'FILE|JSON',
    helpGroup: 'HANDLER',
  }),
  side: Flags.string({
    summary: 'ctx.side.NAME is FILE parsed (JSON; NDJSON as an array), reloaded when FILE changes; !CMD runs CMD --every DURATION.',
    helpValue: 'NAME=FILE|NAME=!CMD',
    multiple: true,
    // Each --side takes one value, so HANDLER may follow it.
    multipleNonGreedy: true,
    helpGroup: 'HANDLER',
  }),
  every: Flags.string({
    summary: 'How often a --side NAME=!CMD runs again: 500ms, 30s, 5m, 1h.',
    helpValue: 'DURATION',
    helpGroup: 'HANDLER',
  }),
  workdir: Flags.string({
    summary: 'ctx.workdir() makes DIR/<record id> per record, removed after success.',
    helpValue: 'DIR',
    helpGroup: 'HANDLER',
  }),
  'keep-workdirs': Flags.boolean({
    summary: 'Keep each record workdir after success.',
    dependsOn: ['workdir'],
    helpGroup: 'HANDLER',
  }),
  stats: Flags.boolean({
    summary: 'Print a JSON summary on stderr at the end: in, out, dropped, errors, retries, ms.',
    helpGroup: 'REPORTING',
  }),
  quiet: Flags.boolean({
    char: 'q',
    summary: 'No closing line on stderr when records were dead-lettered (exit 3).',
    helpGroup: 'REPORTING',
  }),
  progress: Flags.boolean({
    summary: 'Show records done, rate, percent and ETA on stderr: redrawn in place on a terminal (the default there), a plain line every 5 s elsewhere.',
    allowNo: true,
    helpGroup: 'REPORTING',
  }),
  ...reportFlags,
  from: Flags.string({
    summary: 'Consume the work queue URL (redis://host[:port][/db]/NAME) instead of reading input; failed records go to its :dead stream.',
    helpValue: 'URL',
    exclusive: ['in', 'errors'],
    helpGroup: 'QUEUE',
  }),
  to: Flags.string({
    summary: "With --from: add each record's results to the queue's :out stream, acked in the same script (exactly once); without it results go to stdout, acked once flushed (at least once).",
    helpValue: 'URL',
    dependsOn: ['from'],
    exclusive: ['out'],
    helpGroup: 'QUEUE',
  }),
  group: Flags.string({ summary: 'With --from: the consumer group.', helpValue: 'NAME', default: 'opkit', helpGroup: 'QUEUE' }),
  visibility: wholeNumber({
    summary: 'With --from: an entry idle this long is claimed by another consumer; a live consumer extends its own every MS/3.',
    helpValue: 'MS',
    min: 3,
    default: 60_000,
    helpGroup: 'QUEUE',
  }),
  'max-deliveries': wholeNumber({
    summary: "With --from: move an entry to :dead once its handler was started N times (a record that kills its consumer).",
    helpValue: 'N',
    min: 1,
    default: 5,
    helpGroup: 'QUEUE',
  }),
  drain: Flags.boolean({
    summary: 'With --from: exit 0 when the queue has no new and no pending entries (else run until SIGINT/SIGTERM).',
    dependsOn: ['from'],
    helpGroup: 'QUEUE',
  }),
};

/**
 * Flags of a handler given as a command after `--` (map, filter, slice, batch), run as
 * child processes; -w and --stop-timeout say what they also mean there (a chain has no command).
 */
export const commandFlags = {
  workers: Flags.string({
    char: 'w',
    summary: 'Run the handler in N worker threads (auto: one per core); with -- COMMAND, in N child processes (default 1). Records travel in chunks. At most 4 per core and one per 64 MiB of memory (or the cgroup limit): a larger N is capped, with a note on stderr.',
    helpValue: 'N|auto',
    helpGroup: 'EXECUTION',
  }),
  'stop-timeout': wholeNumber({
    summary: 'On SIGINT/SIGTERM, let records in flight finish for MS, then name them and exit; with -- COMMAND, also how long children may take to exit after their input ends.',
    helpValue: 'MS',
    min: 0,
    default: 10_000,
    helpGroup: 'EXECUTION',
  }),
  protocol: Flags.option({
    summary: 'With -- COMMAND: lines (one reply line per record, in order) or json ({"id":N,"record":R} in, {"id":N,"out":V} or {"id":N,"error":"…"} out, in any order).',
    options: ['lines', 'json'] as const,
    helpGroup: 'COMMAND',
  })(),
  'max-restarts': wholeNumber({
    summary: 'With -- COMMAND: stop the run (exit 1) when children had to be replaced more than N times within a minute.',
    helpValue: 'N',
    min: 0,
    helpGroup: 'COMMAND',
  }),
};

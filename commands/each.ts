import { Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { handlerFlags, ioFlags, wholeNumber } from './base-flags.js';

export default class EachCommand extends OpCommand {
  static override summary = 'Run one external command per record, argv built from its fields, never through a shell.';
  static override usage = ['each [FLAGS] -- CMD ARG…', 'each --shell [FLAGS] -- SCRIPT ARG…'];
  static override description = `For each input record, runs CMD with each ARG's placeholders filled from the record: {} the whole record as compact JSON, {.field} or {.a.b} a field (strings as they are, other values as JSON), {#} the 1-based record number, {%} the job slot (1 to --jobs), {{ and }} literal braces. A placeholder may sit inside a word (out/{.id}.mp4). A record without the field fails with "no field …"; it is never filled with an empty string.

No shell is involved: each ARG becomes exactly one argv word, whatever the record holds. --shell runs sh -c SCRIPT op-each VALUES…: SCRIPT is passed as written and the filled ARGs reach it as "$1", "$2"…, never as text of the script.

The output is one record per input, in input order (--unordered: completion order): the input plus "exec": {"argv", "exit", "signal", "ms", "attempt", "stdout", "stderr"}, with "truncated": true when a captured stream was cut at --max-output, "invalidUtf8": true when it held bytes that are not UTF-8 (each replaced by U+FFFD), and "timedOut": true. A record that is not an object is kept under "input".

A job succeeds when its exit status is in --ok-codes. Any other status, a signal, a timeout or a command that is not found (exit 127) is a failure: it is retried (--retries, --retry-delay), then dead-lettered with --errors, the entry's "error" holding "exit", "signal" and the tail of stderr; without --errors the first failure stops the run (exit 1).

Each job runs in its own process group with stdin from /dev/null unless --stdin says otherwise. --timeout sends SIGTERM to the group, then SIGKILL --kill-after ms later. On SIGINT or SIGTERM no more jobs start, the running groups get SIGTERM, then SIGKILL after --stop-timeout; the records of finished jobs are written, interrupted jobs are dead-lettered (or reported on stderr without --errors), and op each exits 130 or 143. No job outlives op each.

Jobs are started by a small resident process, python/opkit_jobs.py, run by the first python3 (3.9 or later) on PATH that is a program rather than a script: a job started from it costs a fraction of one started from op's own, much larger, process. Without such a python3, or with OP_EACH_RUNNER=node, op each starts jobs itself; the records are the same either way.`;
  static override examples = [
    { description: 'Fetch each URL with curl, four at a time; keep the body as parsed JSON.', command: `op each -j 4 --stdout-json -- curl -fsS {.url} < urls.ndjson > pages.ndjson` },
    { description: 'Transcode each video; failures go to a dead-letter file.', command: `op each -j 2 --errors failed.ndjson --timeout 600000 -- ffmpeg -i {.path} out/{.id}.mp4 < videos.ndjson` },
    { description: 'A pipeline in sh, the values as positional parameters.', command: `op each --shell -- 'gzip -c "$1" > "$2"' {.src} out/{.id}.gz < files.ndjson` },
    { description: 'Feed each record to a program on its stdin; stop at the third failure.', command: `op each --stdin record --halt soon,fail=3 --errors bad.ndjson -- ./score.py < jobs.ndjson` },
    { description: 'Resumable: rerun the same line after a crash, and no finished job runs again.', command: `op each -j 4 --journal convert.journal --in videos.ndjson --out done.ndjson -- ffmpeg -i {.path} out/{.id}.mp4` },
  ];
  static override strict = false;
  static override flags = {
    ...ioFlags,
    'input-format': handlerFlags['input-format'],
    jobs: Flags.string({ char: 'j', summary: 'Commands running at once (auto: one per core, the default).', helpValue: 'N|auto', helpGroup: 'JOBS' }),
    shell: Flags.boolean({ summary: 'Run sh -c SCRIPT op-each VALUES…: the filled ARGs reach SCRIPT as "$1"…, never as script text.', helpGroup: 'JOBS' }),
    stdin: Flags.string({ summary: "The job's stdin: the record's JSON line, or a field's text (default: /dev/null).", helpValue: 'record|field:NAME', helpGroup: 'JOBS' }),
    unordered: handlerFlags.unordered,
    timeout: wholeNumber({ summary: "After MS, SIGTERM to the job's process group; SIGKILL --kill-after ms later.", helpValue: 'MS', min: 1, helpGroup: 'JOBS' }),
    'kill-after': wholeNumber({ summary: 'After a timeout, SIGKILL a group still running after MS.', helpValue: 'MS', min: 0, default: 2000, helpGroup: 'JOBS' }),
    'stop-timeout': wholeNumber({ summary: 'On SIGINT/SIGTERM, SIGKILL the running groups MS after their SIGTERM.', helpValue: 'MS', min: 0, default: 2000, helpGroup: 'JOBS' }),
    workdir: Flags.string({ summary: "Run each job in DIR/<record id>, made for it and removed after success.", helpValue: 'DIR', helpGroup: 'JOBS' }),
    'keep-workdirs': handlerFlags['keep-workdirs'],
    capture: Flags.option({ summary: 'Which output streams go into the record.', options: ['both', 'stdout', 'stderr', 'none'] as const, default: 'both' as const, helpGroup: 'OUTPUT' })(),
    'stdout-json': Flags.boolean({ summary: 'Parse stdout as one JSON value, or as NDJSON lines giving an array.', helpGroup: 'OUTPUT' }),
    'max-output': Flags.string({ summary: 'Keep at most this much of each captured stream (default 1M) and mark the record "truncated".', helpValue: 'BYTES', helpGroup: 'OUTPUT' }),
    'ok-codes': Flags.string({ summary: 'Exit statuses that count as success (default 0).', helpValue: 'N,N…', helpGroup: 'ERRORS' }),
    retries: handlerFlags.retries,
    'retry-delay': handlerFlags['retry-delay'],
    halt: Flags.string({ summary: "Stop after N failed jobs, or once P% of the jobs done failed (checked from 3 jobs on): now kills the running jobs, soon lets them finish.", helpValue: 'now|soon,fail=N|P%', helpGroup: 'ERRORS' }),
    errors: handlerFlags.errors,
    'max-errors': handlerFlags['max-errors'],
    id: Flags.string({ summary: 'Record field used as its id in errors, workdirs and journal keys (default: the line number).', helpValue: 'FIELD', helpGroup: 'ERRORS' }),
    journal: handlerFlags.journal,
    fsync: handlerFlags.fsync,
    'resume-failed': handlerFlags['resume-failed'],
    force: handlerFlags.force,
    stats: handlerFlags.stats,
    progress: Flags.boolean({ summary: 'Show jobs done, failed and running, the rate, percent and ETA on stderr (default: when stderr is a terminal).', allowNo: true, helpGroup: 'REPORTING' }),
    debug: handlerFlags.debug,
  };

  async run(): Promise<void> {
    // Everything after the first `--` is CMD ARG…, untouched by flag parsing.
    const cut = this.argv.indexOf('--');
    const own = cut < 0 ? this.argv : this.argv.slice(0, cut);
    const command = cut < 0 ? undefined : this.argv.slice(cut + 1);
    const { argv, flags } = await this.parse(EachCommand, own);
    const { UsageError } = await import('../src/core/errors.js');
    if (argv.length > 0) throw new UsageError(`unexpected ${JSON.stringify(argv[0])}: the command goes after --, as in op each -- CMD ARG…`);
    // The job runner (a Python process) starts while the engine loads: the two start-ups overlap.
    const runner = import('../src/each/job-runner.js').then(({ openJobRunner }) => openJobRunner());
    const { runEach } = await import('../src/each/run-each.js');
    process.exitCode = await runEach(command, flags, runner);
  }
}

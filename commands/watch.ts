import { Args, Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { EXAMPLE_FILES } from './shared/example-files.js';
import { reportFlags, wholeNumber } from './base-flags.js';

export default class WatchCommand extends OpCommand {
  static override summary = 'Run COMMAND once per new or changed file; without one, print file events or stream records.';
  static override usage = ['watch DIR… [-- COMMAND ARGS…]', 'watch DIR… --records'];
  static override description = `Watches directories (never single files: editors save by renaming). A file counts once its writes have settled (its size held for --settle ms), then after --debounce ms of quiet, and, on Linux, once no process holds it open for writing (found in /proc/*/fd, as fuser does; elsewhere the quiet period alone decides). Each file version (device, inode, size, mtime) is processed once, whatever editor, cp or mv made it and whatever path reached it. A file gone when its run is due is skipped: no run, no failure. Symlinked directories are not entered unless --follow-symlinks, and never when they lead back up their own path. Dotfiles, *~, *.sw? and vim's 4913 probe are ignored, and so are the --state and --log files.

With COMMAND: {path}, {name}, {stem}, {dir} and {event} in COMMAND ARGS are filled in, each word staying one argv word (no shell); without a placeholder the path is appended. The run's environment has OP_WATCH_PATH and OP_WATCH_EVENT. Each run has its own process group; its exit status, duration and last stderr lines are reported on stderr.

Without COMMAND: one NDJSON line per file version, {"event":"add","path":…,"size":…,"mtime":…}. With --records: the records of new files, then the whole lines appended to them, each once.

On SIGINT or SIGTERM: stop watching, give runs --stop-timeout ms to finish, then SIGTERM their process groups and SIGKILL them 2 s later; exit 130 or 143.

${EXAMPLE_FILES}`;
  static override examples = [
    { description: 'Clean each new file into done/, as it arrives.', command: `op watch incoming/ -- sh -c 'op map ./clean.js < "$1" > done/"$2".ndjson' _ {path} {stem}` },
    { description: 'Remember what was processed across restarts; retry failures.', command: `op watch incoming/ --state .watch-state.json --retries 2 --log runs.ndjson -- ./process.sh {path}` },
    { description: 'File events as NDJSON, for other commands.', command: `op watch incoming/ --depth 2 | op map 'r.path'` },
    { description: 'Follow the records written into a directory.', command: `op watch logs/ --records | op filter 'r.level === "error"'` },
  ];
  static override strict = false;
  static override args = {
    dir: Args.string({ description: 'Directory to watch; more may follow. COMMAND comes after --.' }),
  };
  static override flags = {
    match: Flags.string({ summary: 'Process files whose path (relative to DIR) matches REGEX; repeatable. Default: \\.(ndjson|jsonl|json)$.', helpValue: 'REGEX', multiple: true, multipleNonGreedy: true, helpGroup: 'FILES' }),
    ignore: Flags.string({ summary: "Skip files and directories whose path (relative to DIR) matches REGEX; repeatable. Use it for COMMAND's own outputs.", helpValue: 'REGEX', multiple: true, multipleNonGreedy: true, helpGroup: 'FILES' }),
    depth: wholeNumber({ summary: 'Also watch subdirectories, N levels deep.', helpValue: 'N', min: 0, default: 0, helpGroup: 'FILES' }),
    'follow-symlinks': Flags.boolean({ summary: 'With --depth, also descend into symlinked directories; never into one that leads back up its own path.', helpGroup: 'FILES' }),
    settle: wholeNumber({ summary: 'A file counts as written once its size held for MS.', helpValue: 'MS', min: 0, default: 200, helpGroup: 'FILES' }),
    debounce: wholeNumber({ summary: 'Then wait for MS of quiet on that path.', helpValue: 'MS', min: 0, default: 50, helpGroup: 'FILES' }),
    records: Flags.boolean({ summary: 'Stream the NDJSON records of new files and of lines appended, each once, instead of running COMMAND.', helpGroup: 'FILES' }),
    state: Flags.string({ summary: 'Remember each file version and outcome in FILE; on start, process what is new, changed, failed or unfinished.', helpValue: 'FILE', helpGroup: 'STATE' }),
    initial: Flags.boolean({ summary: 'Without --state, also process the files already there on start.', helpGroup: 'STATE' }),
    concurrency: wholeNumber({ char: 'c', summary: 'Files processed at once.', helpValue: 'N', min: 1, default: 1, helpGroup: 'RUNS' }),
    'on-busy': Flags.option({ summary: 'A change to a file whose run is in progress: queue one rerun after it, restart the run, or skip the change.', options: ['queue', 'restart', 'skip'] as const, default: 'queue' as const, helpGroup: 'RUNS' })(),
    retries: wholeNumber({ summary: 'Run a failed command again up to N more times, with backoff.', helpValue: 'N', min: 0, default: 0, helpGroup: 'RUNS' }),
    'retry-delay': wholeNumber({ summary: 'First retry delay in ms; doubles each attempt, with jitter.', helpValue: 'MS', min: 0, default: 1000, helpGroup: 'RUNS' }),
    'stop-timeout': wholeNumber({ summary: 'On SIGINT/SIGTERM, how long runs may finish before their process groups get SIGTERM, then SIGKILL.', helpValue: 'MS', min: 0, default: 10_000, helpGroup: 'RUNS' }),
    log: Flags.string({ summary: 'Append one NDJSON line per run to FILE: path, event, status, exitCode, signal, attempt, start, ms, stderr.', helpValue: 'FILE', helpGroup: 'REPORTING' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    // Everything after the first `--` is COMMAND, untouched by flag parsing.
    const cut = this.argv.indexOf('--');
    const own = cut < 0 ? this.argv : this.argv.slice(0, cut);
    const command = cut < 0 ? undefined : this.argv.slice(cut + 1);
    const { argv, flags } = await this.parse(WatchCommand, own);
    const { resolveWatchOptions } = await import('../src/watch/watch-options.js');
    const options = resolveWatchOptions(argv as string[], command, flags);
    const { runWatch } = await import('../src/watch/run-watch.js');
    process.exitCode = await runWatch(options);
  }

}

import { Args, Flags } from '@oclif/core';
import { OpCommand } from './base-command.js';
import { ioFlags, reportFlags } from './base-flags.js';

export default class TeeCommand extends OpCommand {
  static override summary = 'Copy the stream to stdout and to files and commands.';
  static override description = `Each FILE gets a copy of the input bytes, gzip-compressed when its name ends in .gz; stdout gets one too. --to 'CMD ARGS' (repeatable) starts CMD with the stream on its stdin; its own stdout goes to op's stderr, so it never mixes into the stream.

CMD ARGS is split into argv words without a shell, so nothing in it is expanded or run: blanks separate words; 'single quotes' keep everything up to the next ' as written; "double quotes" do too, except that \\" and \\\\ stand for " and \\; outside quotes a backslash keeps the next character. An unclosed quote is a usage error (exit 2).

The slowest copy sets the pace: op reads the next 64 KiB only once every copy took the last, so memory stays flat behind a slow file or command. A closed stdout (op tee x.ndjson | head -1) drops the stdout copy quietly; the other copies go on to the end of the input.

A copy that fails (a write error, a command that cannot start or exits non-zero) stops the run with its name, exit 1. With --ignore-errors it is dropped with one warning and the other copies go on. Every FILE is opened before any input is read. On SIGINT or SIGTERM every copy ends on a whole line, exit 130 or 143, and the commands see the end of their input.`;
  static override examples = [
    { description: 'Keep a compressed copy while the stream goes on.', command: `op map ./clean.ts < raw.ndjson | op tee clean.ndjson.gz | op filter 'r.ok'` },
    { description: 'Fan out: one branch filtered into a file, the other mapped on.', command: `op map ./a.ts < in.ndjson | op tee --to 'op filter r.big --out big.ndjson' | op map ./c.ts` },
    { description: 'Quoting in --to keeps a handler one word.', command: `op tee --to "op map '({id: r.id})' --out ids.ndjson" < data.ndjson > /dev/null` },
  ];
  static override args = {
    files: Args.string({ required: false, ignoreStdin: true, description: 'Files to write a copy to; .gz names are compressed.' }),
  };
  static override flags = {
    in: ioFlags.in,
    to: Flags.string({
      summary: "Copy the stream to CMD's stdin; argv words, never a shell; repeatable.",
      helpValue: 'CMD ARGS',
      multiple: true,
      multipleNonGreedy: true,
      helpGroup: 'INPUT/OUTPUT',
    }),
    'ignore-errors': Flags.boolean({ summary: 'A copy that fails is dropped with a warning instead of failing the run.', helpGroup: 'INPUT/OUTPUT' }),
    ...reportFlags,
  };
  // FILE… is any number of files.
  static override strict = false;

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(TeeCommand);
    const { runTee } = await import('../src/tee/run-tee.js');
    process.exitCode = await runTee({
      inputs: flags.in ?? ['-'],
      files: argv as string[],
      commands: flags.to ?? [],
      ignoreErrors: flags['ignore-errors'],
    });
  }
}

import { EXIT } from '../../src/core/exit-codes.js';

/**
 * What each exit status means, for the man pages and the README (scripts/gen-man.mjs,
 * scripts/gen-readme.mjs): the one source of that text. `handler`: the words for a
 * command that runs a HANDLER (1, 3 and 128+N say more there).
 */
export function exitStatuses({ handler }: { handler: boolean }): Array<{ status: string; text: string }> {
  return [
    { status: String(EXIT.ok), text: 'Success. A closed stdout (op \u2026 | head -1) also ends the run quietly with 0.' },
    handler
      ? { status: String(EXIT.failed), text: 'The run failed: a bad input line or a handler failure without --errors, or --max-errors reached. Output already written is complete up to the last whole line.' }
      : { status: String(EXIT.failed), text: 'The run failed; stderr says where and why. Output already written is complete up to the last whole line.' },
    { status: String(EXIT.usage), text: `Usage error: an unknown flag, a missing or invalid argument${handler ? ', a handler that does not load' : ''}.` },
    ...(handler ? [{ status: String(EXIT.deadLettered), text: 'The run finished, but some records were dead-lettered to the --errors file.' }] : []),
    handler
      ? { status: '128+N', text: 'Stopped by signal N (130 for SIGINT, 143 for SIGTERM), after finishing or dead-lettering the records in flight and flushing the output.' }
      : { status: '128+N', text: 'Stopped by signal N (130 for SIGINT, 143 for SIGTERM), after finishing the work in flight and flushing the output.' },
  ];
}

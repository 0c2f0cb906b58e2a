import { UsageError } from '../../src/core/errors.js';

/** Words that join the steps of a chain: `then`, and `+` as Miller writes it. */
const JOINERS = new Set(['then', '+']);

/** The commands that may be a step of a chain. */
export const STEP_COMMANDS = ['map', 'filter', 'slice', 'batch'] as const;
export type StepCommand = (typeof STEP_COMMANDS)[number];

/**
 * The flags that belong to the whole chain: written with any step, given at most once.
 * The others (--concurrency, --retries, --retry-delay, --timeout, --config, and for a command
 * after -- --protocol and --max-restarts; for batch --size, --bytes, --wait) are the step's own.
 */
export const RUN_FLAGS = new Set([
  ...['in', 'out', 'input-format', 'workers', 'unordered', 'errors', 'max-errors', 'id', 'workdir', 'keep-workdirs', 'stats', 'quiet', 'progress', 'side', 'every', 'debug', 'stop-timeout'],
  // Written with a later step these were once dropped in silence: the run took the first step's.
  ...['journal', 'fsync', 'resume-failed', 'force', 'from', 'to', 'group', 'visibility', 'max-deliveries', 'drain'],
]);

/**
 * True when argv holds a joiner word. After a `--` (a step's command) only a standalone
 * `then` joins, so `+` stays an argument of the command; a literal `then` argument is
 * written in op chain FILE, where each line is one step and all its words are its own.
 */
export function isChain(argv: readonly string[]): boolean {
  let command = false;
  for (const word of argv) {
    if (word === 'then') return true;
    if (word === '--') command = true;
    else if (!command && JOINERS.has(word)) return true;
  }
  return false;
}

/**
 * `map A then filter B --retries 2 + slice C` → [['map', 'A'], ['filter', 'B', '--retries', '2'], ['slice', 'C']]:
 * each step starts with its command's name.
 */
export function splitSteps(first: StepCommand | string, argv: readonly string[]): Array<{ command: StepCommand; argv: string[] }> {
  const steps: string[][] = [[first]];
  let command = false;
  for (const word of argv) {
    if (word === 'then' || (!command && JOINERS.has(word))) {
      steps.push([]);
      command = false;
    } else {
      if (word === '--') command = true;
      steps.at(-1)!.push(word);
    }
  }
  return checkSteps(steps);
}

/** Each step's words, starting with its command's name: checked, and split into command and argv. */
export function checkSteps(steps: readonly string[][]): Array<{ command: StepCommand; argv: string[] }> {
  let batchAt: number | undefined;
  return steps.map((words, k) => {
    const [command, ...rest] = words;
    if (command === undefined) throw new UsageError(`step ${k + 1} of the chain is empty`);
    if (command === 'batch') {
      // The reader cuts the batches, on input records (chunk-scanner.ts): one grouping per run.
      if (batchAt !== undefined) throw new UsageError(`step ${k + 1}: a chain holds one batch step (step ${batchAt + 1} is one); pipe into a second op batch`);
      batchAt = k;
    }
    if (!(STEP_COMMANDS as readonly string[]).includes(command)) throw new UsageError(`step ${k + 1}: ${command} is not a step; a chain joins ${STEP_COMMANDS.join(', ')} with then or +`);
    return { command: command as StepCommand, argv: rest };
  });
}

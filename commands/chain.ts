import { readFileSync } from 'node:fs';
import { Args } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { splitWords } from '../src/io/split-words.js';
import { fsReason } from '../src/io/fs-reason.js';
import { HandlerCommand } from './base-handler.js';
import { checkSteps } from './shared/chain-words.js';
import { handlerFlags } from './base-flags.js';

export default class ChainCommand extends HandlerCommand {
  static override summary = 'Run the steps of a chain written in FILE, one per line, in one process.';
  static override description = `FILE holds the words of a chain, one step per line: a step is map, filter, slice or batch, its HANDLER and its own flags, with words quoted as in a shell (blanks separate words; 'single' and "double" quotes keep text as written), and never run through a shell. # starts a comment line; blank lines are skipped. It runs as op STEP … then STEP … would.

A chain runs in one process: each record is parsed once and serialised once, however many steps it passes, in every executor (with -w N each worker runs the whole chain on its chunks). Each step keeps its own --retries, --retry-delay, --timeout and --config; --concurrency of the chain is the largest of its steps'. A step may be a program in any language instead of a HANDLER, as op map -- CMD is: op map A then map -- python3 h.py then filter B. The words after -- up to the next standalone then are its argv, never run through a shell (after --, + is an argument; only then ends it). To pass a literal then as an argument, write the chain in FILE: each line is one step and all its words are its own. The step runs as one persistent child per thread (one with -w N in each worker), speaking --protocol lines (the default) or json as op map -- CMD does, with OP_COMMAND, OP_CONFIG and the other variables of op map's children; each value reaching it is serialised for the child and each reply parsed, so the step costs its own serialisation. A record whose value the child fails (--protocol json: {"id":N,"error":…}), or whose value is in flight when the child exits, fails in that step and is dead-lettered under its name ("stage": "2:map"); the next value starts a fresh child, at most --max-restarts times. At the end of input the child's stdin is closed and it has --stop-timeout to exit; no child outlives op. With --side, such a step needs --protocol json: each value it is sent names its side version ("sideVersion":V), whose values are in OP_SIDE_DIR/V.json, as for op map --protocol json -- CMD.

The run's flags (--in, --out, -w, --errors, --max-errors, --stats, --progress, --side, …) may be written with any step or after FILE on the command line, once. A dead letter names the step that failed ("stage": "2:filter"); --stats adds each step's counters (in = out + dropped + errors per step). A filter step passes the record on as a value: what reaches the output is serialised again, so the bytes of a kept record are JSON.stringify's, not as read.

A chain may hold one batch step (batch --size N [--bytes B] [--wait MS] [HANDLER]). Its batches are cut by the reader, as op batch cuts them: N consecutive input records (or --bytes of input lines, or what --wait saw arrive), so a batch never spans two chunks and -w N gives the same batches as one thread. The batch step's array holds what the steps before it made of those records, in input order: when they keep every record, as map does, the output is op map A | op batch --size N D's; a record dropped or failed before it leaves its batch short, and a slice before it makes it longer. Before the batch step each record is a unit of its own (a failure dead-letters that record); from the batch step on, the batch is (a failure of the batch handler or of a later step dead-letters each of its remaining records, under the name of the step that failed, such as "stage": "2:batch"). Without HANDLER the batch goes on as one value, an array. The batch step counts as op batch does: in is the records of its batches, out the values it yields.`;
  static override examples = [
    { description: 'A chain kept in the repository.', command: `op chain steps.chain < in.ndjson > out.ndjson` },
    { description: 'The same chain on the command line.', command: `op map ./clean.ts then filter 'r.ok' --retries 2 then slice 'r.items' -w 2 --errors dl.ndjson < in.ndjson` },
    { description: 'A Python step between two JS steps.', command: `op map ./clean.ts then map --protocol json -- python3 score.py then filter 'r.score > 0.5' < in.ndjson` },
    { description: 'Batches of 32 for a model between two maps, on two cores.', command: `op map ./clean.ts then batch --size 32 ./embed.ts then map ./store.ts -w 2 < in.ndjson > out.ndjson` },
  ];
  static override args = {
    file: Args.string({ required: false, ignoreStdin: true, description: 'The chain: one step per line, # comments.' }),
  };
  static override flags = handlerFlags;
  // FILE, then run flags.
  static override strict = false;
  // Each step names its own kind; this one is unused.
  protected readonly kind = 'map' as const;

  override async run(): Promise<void> {
    // Flag values and dependencies are checked first, in the words every command uses.
    await this.parse(ChainCommand);
    const [file, ...rest] = this.argv;
    if (file === undefined || file.startsWith('-')) throw new UsageError('missing FILE: the chain, one step per line');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`${file}: ${fsReason(error)}`);
    }
    const steps = text
      .split('\n')
      .map((line, k) => ({ line: line.trim(), k }))
      .filter(({ line }) => line !== '' && !line.startsWith('#'))
      .map(({ line, k }) => splitWords(line, `${file}:${k + 1}`));
    if (steps.length === 0) throw new UsageError(`${file}: no steps`);
    // Each line is one step and all its words are its own: a `then` in a line is a word like any other.
    await this.runSteps(`op ${steps[0]![0]}`, checkSteps(steps), rest);
  }
}

import { OpError, describeCause } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { fillRankTemplate } from '../io/fill-template.js';
import { openSource } from '../io/open-source.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { concatInputs } from './concat.js';
import { expandInputs } from './expand-inputs.js';
import { mergeByKey } from './key-merge.js';
import { LineBatch } from './line-batch.js';
import { LineReader } from './line-reader.js';
import type { KeySpec } from './merge-key.js';
import { resolveRank } from '../core/resolve-rank.js';
import { mergeRoundRobin } from './round-robin.js';

export interface MergeOptions {
  /** Paths, `-`, and globs, in argument order. */
  inputs: string[];
  /** `--out`; `{rank}` and `{world}` are filled from the environment (rank 0 of 1 without one). */
  output: string | undefined;
  env: NodeJS.ProcessEnv;
  mode: 'concat' | 'round-robin' | 'key';
  key: KeySpec | undefined;
}

/** Merges the inputs into one output. Resolves to the exit status, or throws the failure. */
export async function runMerge(options: MergeOptions): Promise<number> {
  const files = expandInputs(options.inputs);
  // Resolved only when used: a half-set launcher environment must not fail a plain merge.
  const output = options.output?.includes('{') ? fillRankTemplate(options.output, resolveRank({}, options.env, { required: false })) : options.output;
  const sink = openSink(output);
  let failure: unknown;
  try {
    if (options.mode === 'concat') await concatInputs(files, sink);
    else await mergeLines(files, options, sink);
  } catch (error) {
    failure = error instanceof OpError ? error : new OpError(`cannot read: ${describeCause(error)}`, { cause: error });
  }
  failure ??= await endOutputs(sink);
  if (failure !== undefined) throw failure;
  return EXIT.ok;
}

async function mergeLines(files: string[], options: MergeOptions, sink: Sink): Promise<void> {
  const readers = files.map((file) => new LineReader(openSource(file)));
  const batch = new LineBatch(sink);
  try {
    if (options.mode === 'key') await mergeByKey(readers, options.key as KeySpec, batch, sink);
    else await mergeRoundRobin(readers, batch, sink);
  } finally {
    // On failure too: the whole lines merged before it are written.
    await batch.flush();
    for (const reader of readers) reader.close();
  }
}

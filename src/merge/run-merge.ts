import { OpError, describeCause } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { StopSignal } from '../engine/stop-signal.js';
import { openSource } from '../io/open-source.js';
import { endOutputs, openSink, type Sink } from '../io/open-sink.js';
import { refuseSameFile } from '../io/same-file.js';
import { concatInputs } from './concat.js';
import { expandInputs } from './expand-inputs.js';
import { mergeByKey } from './key-merge.js';
import { LineBatch } from './line-batch.js';
import { LineReader } from './line-reader.js';
import type { KeySpec } from './merge-key.js';
import type { MergeStop } from './merge-stop.js';
import { mergeRoundRobin } from './round-robin.js';

export interface MergeOptions {
  /** Paths, `-`, and globs, in argument order. */
  inputs: string[];
  /** `--out`, placeholders filled in; undefined: stdout. */
  output: string | undefined;
  mode: 'concat' | 'round-robin' | 'key';
  key: KeySpec | undefined;
}

/**
 * Merges the inputs into one output. Resolves to the exit status (130/143 when stopped by
 * SIGINT/SIGTERM, the output then ending on a whole line), or throws the failure.
 */
export async function runMerge(options: MergeOptions): Promise<number> {
  const files = expandInputs(options.inputs);
  // Before the output is opened (and truncated): a merge must never read what it writes.
  refuseSameFile(files, [options.output]);
  const sink = openSink(options.output);
  const stop = new StopSignal();
  let failure: unknown;
  try {
    if (options.mode === 'concat') await concatInputs(files, sink, stop);
    else await mergeLines(files, options, sink, stop);
  } catch (error) {
    failure = error instanceof OpError ? error : new OpError(`cannot read: ${describeCause(error)}`, { cause: error });
  }
  failure ??= await endOutputs(sink);
  stop.dispose();
  if (failure !== undefined) throw failure;
  return stop.exitCode ?? EXIT.ok;
}

async function mergeLines(files: string[], options: MergeOptions, sink: Sink, stop: MergeStop): Promise<void> {
  const readers = files.map((file) => new LineReader(openSource(file)));
  const batch = new LineBatch(sink);
  // Reads blocked on a quiet pipe end at once; a line half read is not a record.
  const release = stop.onStop(() => {
    for (const reader of readers) reader.close();
  });
  const halted = (): boolean => stop.stopped;
  try {
    if (options.mode === 'key') await mergeByKey(readers, options.key as KeySpec, batch, sink, halted);
    else await mergeRoundRobin(readers, batch, sink, halted);
  } finally {
    release();
    // On failure too: the whole lines merged before it are written.
    await batch.flush();
    for (const reader of readers) reader.close();
  }
}

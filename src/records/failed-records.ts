import { RecordError, causeParts, toErrorData, type Stage } from '../core/errors.js';
import type { ChunkResult } from './chunk.js';
import { newStats } from './stats.js';

/** A record known by its place and text only (it was never parsed, or its thread died). */
export interface PlacedLine {
  line: number;
  text: string;
}

export function emptyResult(): ChunkResult {
  return { out: [], stats: newStats(), deadLetters: [], deadLetterAt: [], failure: undefined, setupFailure: undefined, ms: 0 };
}

/**
 * Records that failed outside the chunk function (a line past the length limit, a unit
 * whose worker died twice): dead-lettered with `--errors`, else the failure that stops the
 * run at the first of them.
 */
export function failedRecords(records: PlacedLine[], source: string, cause: unknown, options: { stage: Stage; attempts: number; deadLetters: boolean }): ChunkResult {
  const result = emptyResult();
  result.stats.in = records.length;
  // Counted as failed either way, so the stats of a stopped run still balance.
  result.stats.errors = records.length;
  const first = records[0]!;
  if (!options.deadLetters) {
    const place = { source, line: first.line };
    result.failure = toErrorData(new RecordError(cause, { place, stage: options.stage, attempts: options.attempts, excerpt: first.text }));
    return result;
  }
  const error = causeParts(cause);
  for (const { line, text } of records) {
    result.deadLetters.push({ source, line, id: line, input: parsedOrText(text), error, attempts: options.attempts, stage: options.stage });
    result.deadLetterAt.push(0);
  }
  return result;
}

/** A dead letter's `input` has one form in every executor: the record as read, parsed when it parses. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

import { RecordError } from '../core/errors.js';
import type { DecodedLines } from './decode-lines.js';
import { isBlankText } from './is-blank-line.js';
import { withoutCr } from './line-end.js';

/**
 * Calls `take` with each record of decoded lines: its text without the line ending, its
 * parsed value and its line number. Blank lines are skipped; the first line that is no
 * record (bad bytes, invalid JSON) throws a RecordError naming its place. For commands
 * that route or store records as they are (op shard, op queue push); handler commands go
 * through the chunk function instead.
 */
export function eachRecord(chunk: DecodedLines & { firstLine: number }, source: string, take: (text: string, record: unknown, line: number) => void): void {
  const { lines, bad, firstLine } = chunk;
  for (let k = 0; k < lines.length; k++) {
    const text = lines[k]!;
    const why = bad?.get(k);
    if (why === undefined && isBlankText(text)) continue;
    const place = { source, line: firstLine + k };
    if (why !== undefined) throw new RecordError(why, { place, stage: why.stage ?? 'read', attempts: 1, excerpt: text });
    const clean = withoutCr(text);
    let record: unknown;
    try {
      record = JSON.parse(clean);
    } catch (error) {
      throw new RecordError(error, { place, stage: 'parse', attempts: 1, excerpt: clean });
    }
    take(clean, record, place.line);
  }
}

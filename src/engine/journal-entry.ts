import type { DeadLetter } from '../records/record-runner.js';

/** What the journal knows of one finished unit (a record, or a batch). */
export interface JournalEntry {
  key: string;
  status: 'ok' | 'dead';
  /** Its output text, each line ending in a newline ('' when dropped or dead). */
  out: string;
  deadLetters: DeadLetter[];
  /** With --side: the side inputs' version the record saw (ctx.sideVersion). */
  sideVersion?: number | undefined;
}

const OUT_FIELD = ',"o":[';

/**
 * One NDJSON line: `{"k":KEY,"s":"ok","o":[LINE,…]}`, with `"e":[…]` (dead letters) and
 * `"b":[…]` (line lengths, only past one line) before `o`; with --side, `"sideVersion":V`,
 * the version of the side inputs the record saw (ctx.sideVersion). The output lines are JSON
 * themselves, so they go in raw and come back byte for byte, never re-serialised; a map
 * record costs its output plus about 30 bytes.
 */
export function formatEntry(entry: JournalEntry): string {
  const { out } = entry;
  // The common case, one line and no dead letter, without splitting.
  const side = entry.sideVersion === undefined ? '' : `,"sideVersion":${entry.sideVersion}`;
  if (entry.deadLetters.length === 0 && out.indexOf('\n') === out.length - 1) return `{"k":${JSON.stringify(entry.key)},"s":"ok"${side}${OUT_FIELD}${out.slice(0, -1)}]}\n`;
  const lines = entry.out === '' ? [] : entry.out.slice(0, -1).split('\n');
  let head = `{"k":${JSON.stringify(entry.key)},"s":"${entry.status}"${side}`;
  if (entry.deadLetters.length > 0) head += `,"e":${JSON.stringify(entry.deadLetters)}`;
  if (lines.length > 1) head += `,"b":[${lines.map((line) => line.length).join(',')}]`;
  return `${head}${OUT_FIELD}${lines.join(',')}]}\n`;
}

/** The entry of one journal line (without its newline); throws on a line it did not write. */
export function parseEntry(text: string): JournalEntry {
  // A quote inside a JSON string is always escaped, so the first raw `,"o":[` is the field.
  const at = text.indexOf(OUT_FIELD);
  if (at < 0 || !text.endsWith(']}')) throw new Error('not a journal entry');
  const head = JSON.parse(text.slice(0, at) + '}') as { k?: unknown; s?: unknown; e?: DeadLetter[]; b?: number[]; sideVersion?: number };
  if (typeof head.k !== 'string' || (head.s !== 'ok' && head.s !== 'dead')) throw new Error('not a journal entry');
  const body = text.slice(at + OUT_FIELD.length, -2);
  let out = '';
  if (head.b) {
    let start = 0;
    for (const length of head.b) {
      out += body.slice(start, start + length) + '\n';
      start += length + 1;
    }
  } else if (body !== '') {
    out = body + '\n';
  }
  return { key: head.k, status: head.s, out, deadLetters: head.e ?? [], sideVersion: head.sideVersion };
}

/**
 * `--seq FIELD`: the record's global input index written into it, so `op merge --key FIELD`
 * can restore input order after the shares were processed apart. The index is
 * spliced in before the closing brace, keeping every other byte of the line as it was;
 * a record that already has FIELD is serialised again with FIELD replaced in place.
 * Records that are not objects (arrays, strings, numbers, null) pass unstamped.
 */
export function stampSeq(text: string, record: unknown, field: string, index: number): string {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return text;
  if (Object.hasOwn(record, field)) return JSON.stringify({ ...record, [field]: index });
  const body = text.trimEnd();
  const empty = Object.keys(record).length === 0;
  return `${body.slice(0, -1)}${empty ? '' : ','}${JSON.stringify(field)}:${index}}`;
}

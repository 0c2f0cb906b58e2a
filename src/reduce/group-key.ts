import { fieldReader, type FieldReader } from './field-path.js';

/**
 * The identity of a group: its key fields' JSON texts joined by commas, so `[` + text + `]`
 * parses back to the values. A missing field groups as null. One string per group keeps
 * 5,000,000 keys in a Map without an object each.
 */
export class GroupKey {
  private readonly readers: FieldReader[];
  /** `{"user":`: with one field, the key's JSON is this plus the key text, never parsed. */
  private readonly prefix: string;

  constructor(readonly fields: string[]) {
    this.readers = fields.map(fieldReader);
    this.prefix = `{${JSON.stringify(fields[0])}:`;
  }

  /** The key object's JSON text, fields in the order written. */
  jsonOf(text: string): string {
    if (this.fields.length === 1) return this.prefix + text + '}';
    const values = JSON.parse(`[${text}]`) as unknown[];
    return '{' + this.fields.map((field, k) => `${JSON.stringify(field)}:${JSON.stringify(values[k])}`).join(',') + '}';
  }

  textOf(record: unknown): string {
    const readers = this.readers;
    if (readers.length === 1) return valueText(readers[0]!(record));
    let text = '';
    for (let k = 0; k < readers.length; k++) text += (k ? ',' : '') + valueText(readers[k]!(record));
    return text;
  }

  /** `{"user":"ann"}` for the output record, named by the fields as written. */
  objectOf(text: string): Record<string, unknown> {
    const values = JSON.parse(`[${text}]`) as unknown[];
    const key: Record<string, unknown> = {};
    for (const [k, field] of this.fields.entries()) key[field] = values[k];
    return key;
  }
}

function valueText(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

import type { Part, Template } from './parse-template.js';

/** What a template is filled from: one record, its 1-based number and the job slot. */
export interface FillValues {
  record: unknown;
  number: number;
  slot: number;
}

/** A record without the field a placeholder names: that record fails, never an empty word. */
export class MissingFieldError extends Error {
  /** The same record fails the same way: not worth a retry. */
  readonly retryable = false;

  constructor(name: string) {
    super(`no field ${name}`);
    this.name = 'FieldError';
  }
}

/** Fills one template; the result is exactly one argv word, whatever the record holds. */
export function fillTemplate(template: Template, values: FillValues): string {
  if (template.fixed !== undefined) return template.fixed;
  let out = '';
  for (const part of template.parts) out += fillPart(part, values);
  return out;
}

function fillPart(part: Part, values: FillValues): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'record':
      return JSON.stringify(values.record) ?? 'null';
    case 'number':
      return String(values.number);
    case 'slot':
      return String(values.slot);
    case 'field':
      return fieldText(values.record, part.path, part.name);
  }
}

/** `{.a.b}`: strings as they are, any other value as JSON. */
export function fieldText(record: unknown, path: readonly string[], name: string): string {
  const value = readField(record, path, name);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function readField(record: unknown, path: readonly string[], name: string): unknown {
  let value = record;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) throw new MissingFieldError(name);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

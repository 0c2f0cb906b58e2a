import { UsageError } from '../core/errors.js';

/** One piece of an ARG: literal text, or a value taken from the record or the job. */
export type Part =
  | { type: 'text'; text: string }
  | { type: 'record' }
  | { type: 'field'; path: string[]; name: string }
  | { type: 'number' }
  | { type: 'slot' };

/** An ARG cut into parts; `fixed` when it has no placeholder, so it is copied as is. */
export interface Template {
  parts: Part[];
  fixed: string | undefined;
}

/**
 * Parses one ARG of `op each -- CMD ARG…`: `{}` the record, `{.a.b}` a field, `{#}` the
 * record number, `{%}` the job slot, `{{` and `}}` literal braces. Any other brace is a
 * usage error, found before input is read, rather than a word passed on half-filled.
 */
export function parseTemplate(arg: string): Template {
  const parts: Part[] = [];
  let text = '';
  let placeholders = 0;
  for (let at = 0; at < arg.length; ) {
    const c = arg[at]!;
    if (c === '}') {
      if (arg[at + 1] !== '}') throw new UsageError(`${JSON.stringify(arg)}: a lone } (write }} for a literal brace)`);
      text += '}';
      at += 2;
      continue;
    }
    if (c !== '{') {
      text += c;
      at++;
      continue;
    }
    if (arg[at + 1] === '{') {
      text += '{';
      at += 2;
      continue;
    }
    const end = arg.indexOf('}', at + 1);
    if (end < 0) throw new UsageError(`${JSON.stringify(arg)}: an unclosed { (write {{ for a literal brace)`);
    const part = placeholderPart(arg.slice(at + 1, end), arg);
    if (text !== '') parts.push({ type: 'text', text });
    text = '';
    parts.push(part);
    placeholders++;
    at = end + 1;
  }
  if (text !== '' || parts.length === 0) parts.push({ type: 'text', text });
  return { parts, fixed: placeholders === 0 ? text : undefined };
}

function placeholderPart(inner: string, arg: string): Part {
  if (inner === '') return { type: 'record' };
  if (inner === '#') return { type: 'number' };
  if (inner === '%') return { type: 'slot' };
  if (inner.startsWith('.')) {
    const path = inner.slice(1).split('.');
    if (path.some((key) => key === '')) throw new UsageError(`${JSON.stringify(arg)}: {${inner}} has an empty field name`);
    return { type: 'field', path, name: path.join('.') };
  }
  throw new UsageError(`${JSON.stringify(arg)}: unknown placeholder {${inner}} (use {}, {.field}, {#} or {%}; {{ and }} for literal braces)`);
}

/** True when some ARG has a placeholder: used to refuse them in a --shell SCRIPT. */
export function hasPlaceholder(arg: string): boolean {
  try {
    return parseTemplate(arg).fixed === undefined;
  } catch {
    return false;
  }
}

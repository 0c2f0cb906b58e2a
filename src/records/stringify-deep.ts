type Container = { array: true; value: unknown[]; keys: undefined; next: number; wrote: boolean } | { array: false; value: Record<string, unknown>; keys: string[]; next: number; wrote: boolean };

/**
 * JSON.stringify with an explicit stack instead of recursion. V8's JSON.stringify recurses
 * and overflows near 10,000 levels of nesting, while JSON.parse does not; this takes over
 * only then, so every record that parsed can be written back. Same output as
 * JSON.stringify (no indentation): toJSON, skipped undefined/function/symbol members,
 * null for them in arrays and for non-finite numbers, TypeError on BigInt and cycles.
 */
export function stringifyDeep(root: unknown): string | undefined {
  const parts: string[] = [];
  const stack: Container[] = [];
  const active = new Set<unknown>();

  /** Writes a scalar, or opens a container; false when the value is not JSON (skipped). */
  const open = (input: unknown, key: string): boolean => {
    let value = input;
    if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
    switch (typeof value) {
      case 'string':
        parts.push(JSON.stringify(value));
        return true;
      case 'number':
        parts.push(Number.isFinite(value) ? String(value) : 'null');
        return true;
      case 'boolean':
        parts.push(value ? 'true' : 'false');
        return true;
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt');
      case 'undefined':
      case 'function':
      case 'symbol':
        return false;
    }
    if (value === null) {
      parts.push('null');
      return true;
    }
    if (active.has(value)) throw new TypeError('Converting circular structure to JSON');
    active.add(value);
    if (Array.isArray(value)) {
      parts.push('[');
      stack.push({ array: true, value, keys: undefined, next: 0, wrote: false });
    } else {
      parts.push('{');
      const record = value as Record<string, unknown>;
      stack.push({ array: false, value: record, keys: Object.keys(record), next: 0, wrote: false });
    }
    return true;
  };

  if (!open(root, '')) return undefined;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.array) {
      if (top.next >= top.value.length) {
        close(top, ']');
        continue;
      }
      const at = top.next++;
      if (top.wrote) parts.push(',');
      top.wrote = true;
      if (!open(top.value[at], String(at))) parts.push('null');
    } else {
      if (top.next >= top.keys.length) {
        close(top, '}');
        continue;
      }
      const key = top.keys[top.next++]!;
      const mark = parts.length;
      parts.push((top.wrote ? ',' : '') + JSON.stringify(key) + ':');
      if (open(top.value[key], key)) top.wrote = true;
      else parts.length = mark;
    }
  }
  return parts.join('');

  function close(top: Container, bracket: string): void {
    parts.push(bracket);
    stack.pop();
    active.delete(top.value);
  }
}

/**
 * jq's total order of JSON values (jq manual, "sort"): null < false < true < numbers <
 * strings < arrays < objects. Numbers compare as numbers; strings by Unicode code point
 * (byte order of their UTF-8, as `LC_ALL=C sort`); arrays element by element, a prefix
 * first; objects first by their sorted key lists, then by their values in that key order.
 */
export function compareJson(a: unknown, b: unknown): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case NUMBER:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case STRING:
      return compareCodePoints(a as string, b as string);
    case ARRAY:
      return compareArrays(a as unknown[], b as unknown[]);
    case OBJECT:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
    default:
      return 0;
  }
}

const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const NUMBER = 3;
const STRING = 4;
const ARRAY = 5;
const OBJECT = 6;

function rankOf(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return NUMBER;
    case 'string':
      return STRING;
    case 'boolean':
      return value ? TRUE : FALSE;
    case 'object':
      return value === null ? NULL : Array.isArray(value) ? ARRAY : OBJECT;
    default:
      // Not a JSON value (undefined): with null, below everything.
      return NULL;
  }
}

/**
 * JavaScript's `<` compares UTF-16 code units, which puts U+10000 and above (surrogates,
 * 0xD800…) before U+E000…U+FFFF. Code points fix that; equal code units are the fast path.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const ca = a.charCodeAt(k);
    const cb = b.charCodeAt(k);
    if (ca === cb) continue;
    const pa = a.codePointAt(k) as number;
    const pb = b.codePointAt(k) as number;
    // Both in the Basic Multilingual Plane, or a surrogate against one: compare code points.
    return pa < pb ? -1 : pa > pb ? 1 : ca - cb;
  }
  return a.length - b.length;
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const order = compareJson(a[k], b[k]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort(compareCodePoints);
  const kb = Object.keys(b).sort(compareCodePoints);
  const byKeys = compareArrays(ka, kb);
  if (byKeys !== 0) return byKeys;
  for (const key of ka) {
    const order = compareJson(a[key], b[key]);
    if (order !== 0) return order;
  }
  return 0;
}

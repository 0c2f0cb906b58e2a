import { UsageError } from '../core/errors.js';
import type { Aggregator, StepContext } from './aggregator.js';
import { fieldReader } from './field-path.js';

/** One `--agg` item: `count`, `sum:F`, … */
interface AggregateSpec {
  op: 'count' | 'sum' | 'mean' | 'min' | 'max' | 'first' | 'last' | 'distinct' | 'collect';
  field: string | undefined;
  /** The output field: `count`, `sum_F`, … with F as written. */
  name: string;
}

const OPS = new Set(['count', 'sum', 'mean', 'min', 'max', 'first', 'last', 'distinct', 'collect']);

/** Bytes per slot, and per held value, in V8's representation (a heap number is 16 bytes, a pointer 8). */
const SLOT_BYTES = 16;
const VALUE_BYTES = 32;

/** `count,sum:bytes,max:ms`: the aggregates in the order written. */
export function parseAggregates(text: string): AggregateSpec[] {
  const specs: AggregateSpec[] = [];
  for (const item of text.split(',').map((part) => part.trim())) {
    const at = item.indexOf(':');
    const op = at < 0 ? item : item.slice(0, at);
    const field = at < 0 ? undefined : item.slice(at + 1);
    if (!OPS.has(op)) throw new UsageError(`--agg: unknown aggregate ${JSON.stringify(item)}; known: count, sum:F, mean:F, min:F, max:F, first:F, last:F, distinct:F, collect:F`);
    if (op === 'count' && field !== undefined) throw new UsageError(`--agg: count takes no field, got ${JSON.stringify(item)}`);
    if (op !== 'count' && !field) throw new UsageError(`--agg: ${op} needs a field, as in ${op}:score`);
    const name = field === undefined ? op : `${op}_${field}`;
    if (specs.some((spec) => spec.name === name)) throw new UsageError(`--agg: ${item} is given twice`);
    specs.push({ op: op as AggregateSpec['op'], field, name });
  }
  return specs;
}

type Slot = unknown;
interface Part {
  init(): Slot;
  /** The value this aggregate takes from the record (undefined: none); throws when it is unusable. */
  input(record: unknown): unknown;
  step(slot: Slot, value: unknown, index: number): Slot;
  merge(a: Slot, b: Slot): Slot;
  out(slot: Slot): unknown;
  freeze?(slot: Slot): unknown;
  thaw?(frozen: unknown): Slot;
  size(slot: Slot): number;
}

/** Built-in aggregates: the state is one slot per aggregate, updated in place. */
export function builtinAggregator(specs: AggregateSpec[]): Aggregator {
  const parts = specs.map(partOf);
  const names = specs.map((spec) => spec.name);
  const n = parts.length;
  // Every input is read (and checked) before any slot changes, so a failing record leaves no trace.
  const inputs: unknown[] = new Array(n);
  return {
    mergeable: true,
    sync: true,
    wantsKey: false,
    init: () => parts.map((part) => part.init()),
    step(state, record, ctx: StepContext) {
      const slots = state as Slot[];
      for (let k = 0; k < n; k++) inputs[k] = parts[k]!.input(record);
      for (let k = 0; k < n; k++) if (inputs[k] !== undefined) slots[k] = parts[k]!.step(slots[k], inputs[k], ctx.index);
      return slots;
    },
    merge(a, b) {
      const x = a as Slot[];
      const y = b as Slot[];
      return parts.map((part, k) => part.merge(x[k], y[k]));
    },
    output(state) {
      const slots = state as Slot[];
      const out: Record<string, unknown> = {};
      for (let k = 0; k < n; k++) out[names[k]!] = parts[k]!.out(slots[k]);
      return out;
    },
    freeze: (state) => (state as Slot[]).map((slot, k) => parts[k]!.freeze?.(slot) ?? slot),
    thaw: (frozen) => (frozen as unknown[]).map((slot, k) => (parts[k]!.thaw ? parts[k]!.thaw(slot) : slot)),
    sizeOf(state) {
      const slots = state as Slot[];
      let bytes = 16;
      for (let k = 0; k < n; k++) bytes += parts[k]!.size(slots[k]);
      return bytes;
    },
  };
}

/** `--collect`: the whole records of each group, in input order. */
export function collectAggregator(): Aggregator {
  const part = collectPart((record) => record);
  return {
    mergeable: true,
    sync: true,
    wantsKey: false,
    init: () => part.init(),
    step: (state, record) => part.step(state, record, 0),
    merge: (a, b) => part.merge(a, b),
    output: (state) => ({ records: state }),
    freeze: (state) => state,
    thaw: (frozen) => frozen,
    sizeOf: (state) => part.size(state),
  };
}

function partOf(spec: AggregateSpec): Part {
  const read = spec.field === undefined ? () => undefined : fieldReader(spec.field);
  const label = spec.field === undefined ? spec.op : `${spec.op}:${spec.field}`;
  switch (spec.op) {
    case 'count':
      return { init: () => 0, input: () => 1, step: (n) => (n as number) + 1, merge: (a, b) => (a as number) + (b as number), out: (n) => n, size: () => SLOT_BYTES };
    case 'sum':
      return {
        init: () => 0,
        input: (record) => numberOf(read(record), label),
        step: (sum, x) => (sum as number) + (x as number),
        merge: (a, b) => (a as number) + (b as number),
        out: (sum) => sum,
        size: () => SLOT_BYTES,
      };
    case 'mean':
      // Exact: a sum and a count, merged as such; never an average of averages.
      return {
        init: () => [0, 0],
        input: (record) => numberOf(read(record), label),
        step: (slot, x) => {
          const pair = slot as [number, number];
          pair[0] += x as number;
          pair[1] += 1;
          return slot;
        },
        merge: (a, b) => {
          const [s, n] = a as [number, number];
          const [t, m] = b as [number, number];
          return [s + t, n + m];
        },
        out: (slot) => {
          const [s, n] = slot as [number, number];
          return n === 0 ? null : s / n;
        },
        size: () => 3 * SLOT_BYTES,
      };
    case 'min':
    case 'max': {
      const wantsLess = spec.op === 'min';
      const better = (x: Slot, best: Slot): boolean => best === undefined || (wantsLess ? compareValues(x, best) < 0 : compareValues(x, best) > 0);
      return {
        init: () => undefined,
        input: (record) => orderedOf(read(record), label),
        step: (best, x) => (better(x, best) ? x : best),
        merge: (a, b) => (b !== undefined && better(b, a) ? b : a),
        out: (best) => best ?? null,
        freeze: (best) => best ?? null,
        thaw: (frozen) => frozen ?? undefined,
        size: (best) => SLOT_BYTES + (typeof best === 'string' ? best.length : 0),
      };
    }
    case 'first':
    case 'last': {
      // [input index, value]: after a spill the partial results meet out of order, and the index decides.
      const keepsFirst = spec.op === 'first';
      return {
        init: () => undefined,
        input: read,
        step: (slot, x, index) => (keepsFirst && slot !== undefined ? slot : [index, x]),
        merge: (a, b) => {
          if (a === undefined) return b;
          if (b === undefined) return a;
          const earlier = (a as [number])[0] < (b as [number])[0];
          return earlier === keepsFirst ? a : b;
        },
        out: (slot) => (slot === undefined ? null : (slot as [number, unknown])[1]),
        freeze: (slot) => slot ?? null,
        thaw: (frozen) => frozen ?? undefined,
        size: (slot) => SLOT_BYTES + (slot === undefined ? 0 : VALUE_BYTES + textSize((slot as [number, unknown])[1])),
      };
    }
    case 'distinct':
      return {
        init: () => new Set<string>(),
        input: read,
        step: (set, x) => (set as Set<string>).add(JSON.stringify(x)),
        merge: (a, b) => {
          for (const x of b as Set<string>) (a as Set<string>).add(x);
          return a;
        },
        out: (set) => (set as Set<string>).size,
        freeze: (set) => [...(set as Set<string>)],
        thaw: (frozen) => new Set(frozen as string[]),
        size: (set) => {
          let bytes = 64;
          // 40 bytes per entry: a Set's hash table slot and the string header.
          for (const x of set as Set<string>) bytes += 40 + x.length;
          return bytes;
        },
      };
    case 'collect':
      return collectPart(read);
  }
}

function collectPart(read: (record: unknown) => unknown): Part {
  return {
    init: () => [],
    input: read,
    step: (list, x) => ((list as unknown[]).push(x), list),
    merge: (a, b) => (a as unknown[]).concat(b as unknown[]),
    out: (list) => list,
    size: (list) => {
      let bytes = 32;
      for (const x of list as unknown[]) bytes += 8 + textSize(x);
      return bytes;
    },
  };
}

/** Parsed JSON takes about twice its text in V8 (object headers, 16-byte numbers): measured on the bench records. */
function textSize(value: unknown): number {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return 16;
  if (typeof value === 'string') return 16 + value.length;
  return 2 * (JSON.stringify(value)?.length ?? 0);
}

/** Numbers, and strings that are numbers; a missing or null field is skipped; anything else fails the record. */
function numberOf(value: unknown, label: string): number | undefined {
  if (typeof value === 'number') return value;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const x = Number(value);
    if (Number.isFinite(x)) return x;
  }
  throw new TypeError(`${label}: ${JSON.stringify(value)} is not a number`);
}

/** min and max order numbers (before strings) and strings; a missing or null field is skipped. */
function orderedOf(value: unknown, label: string): number | string | undefined {
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (value === undefined || value === null) return undefined;
  throw new TypeError(`${label}: ${JSON.stringify(value)} is neither a number nor a string`);
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
}

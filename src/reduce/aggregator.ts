/** What a group's state goes through; built-in aggregates and user handlers both fit it. */
export interface Aggregator {
  /** Partial states can be combined (spilling to disk and merging sessions need it). */
  readonly mergeable: boolean;
  /** step() never returns a promise: the reduce step then runs without awaiting. */
  readonly sync: boolean;
  /** output() reads its key argument (else it gets an empty object, and no key is parsed). */
  readonly wantsKey: boolean;
  init(key: KeyThunk, ctx: StepContext): unknown;
  /** The next state; may be the same object, updated. */
  step(state: unknown, record: unknown, ctx: StepContext): unknown;
  merge(a: unknown, b: unknown): unknown;
  /** The fields the output record carries besides key and window. */
  output(state: unknown, key: Record<string, unknown>): Record<string, unknown>;
  /** State as JSON for a spill file, and back. */
  freeze(state: unknown): unknown;
  thaw(frozen: unknown): unknown;
  /** Estimated bytes of the state, for --max-memory. */
  sizeOf(state: unknown): number;
}

/** The key object, built only when a handler asks for it. */
export type KeyThunk = () => Record<string, unknown>;

/** What a step sees of the record besides its value; also the `ctx` of a handler. */
export interface StepContext {
  /** 0-based index of the record among all input records. */
  index: number;
  line: number;
  source: string;
  attempt: number;
  config: unknown;
  signal: AbortSignal;
  log(...args: unknown[]): void;
}

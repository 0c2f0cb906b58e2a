import type { InputError } from '../core/errors.js';
import type { BatchMember, RecordRunner } from './record-runner.js';

export interface BatchLimits {
  /** Records per batch. */
  size: number;
  /** Bytes of an emitted batch line (`[a,b,…]`); a single larger record forms its own batch. */
  bytes: number | undefined;
  /** Milliseconds after a batch's first record at which it is flushed, full or not. */
  wait: number | undefined;
}

/**
 * Groups consecutive records into the batches the reader cut (engine/chunk-scanner.ts
 * decides every batch boundary, on bytes, before anything is parsed). `add` returns a
 * batch's output (or its promise) when the record completes one, else undefined; the
 * caller runs that through the same window as any record. A record that fails to parse
 * is dead-lettered but still takes its place. Without a handler a batch is written as the
 * JSON array of its lines, joined as read.
 */
export class Batcher {
  private members: BatchMember[] = [];
  /** Records (parsed or not) in the open batch. */
  private records = 0;
  /** A failure that must surface after the partial batch before it is written. */
  private pending: { error: unknown } | undefined;

  constructor(
    private readonly runner: RecordRunner,
    private readonly options: { withHandler: boolean; sizes: number[] },
  ) {}

  add(text: string, line: number, index: number, source: string, bad: InputError | undefined): string | Promise<string> | undefined {
    this.throwPending();
    this.records++;
    let member: BatchMember | undefined;
    try {
      member = this.runner.member(text, line, index, source, bad);
    } catch (error) {
      // The records before a bad line are written first, as a (short) batch of their own.
      if (this.members.length === 0) throw error;
      this.pending = { error };
      return this.flush();
    }
    if (member) this.members.push(member);
    if (this.records >= (this.options.sizes[0] ?? Infinity)) return this.flush();
    return undefined;
  }

  /** The open batch, however full (the end of a chunk's plan). */
  flush(): string | Promise<string> | undefined {
    if (this.records === 0) {
      this.throwPending();
      return undefined;
    }
    const members = this.members;
    this.members = [];
    this.records = 0;
    this.options.sizes.shift();
    if (members.length === 0) return '';
    if (this.options.withHandler) return this.runner.runBatch(members);
    this.runner.stats.out++;
    return '[' + members.map((member) => member.text).join(',') + ']\n';
  }

  private throwPending(): void {
    if (!this.pending) return;
    const { error } = this.pending;
    this.pending = undefined;
    throw error;
  }
}

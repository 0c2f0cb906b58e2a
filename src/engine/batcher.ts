import type { BatchMember, RecordRunner } from './record-runner.js';

export interface BatchLimits {
  /** Records per batch. */
  size: number;
  /** Serialised bytes per batch; a single larger record forms its own batch. */
  bytes: number | undefined;
  /** Milliseconds after a batch's first record at which it is flushed, full or not. */
  wait: number | undefined;
}

/**
 * Groups consecutive records into batches for `op batch`. `add` returns a batch's output
 * (or its promise) when the record completes one, else undefined; the caller runs that
 * through the same window as any record. A batch is a run of consecutive input records:
 * one that fails to parse is dead-lettered but still takes its place, so the worker path,
 * which cuts batches on bytes before anything is parsed, groups exactly the same records.
 * Without a handler a batch is written as the JSON array of its lines, joined as read.
 */
export class Batcher {
  private members: BatchMember[] = [];
  /** Records (parsed or not) and their bytes in the open batch. */
  private records = 0;
  private bytes = 0;
  /** A failure that must surface after the partial batch before it is written. */
  private pending: { error: unknown } | undefined;
  /** performance.now() when the open batch got its first record. */
  startedAt: number | undefined;

  /**
   * `plan`: the sizes of the batches to make, in records, when they were decided elsewhere
   * (the main thread, for a worker); otherwise `limits` decides.
   */
  constructor(
    private readonly runner: RecordRunner,
    private readonly limits: BatchLimits,
    private readonly withHandler: boolean,
    private readonly plan?: number[],
  ) {}

  /** When the open batch must be flushed under --wait, if it must. */
  get deadline(): number | undefined {
    return this.limits.wait === undefined || this.startedAt === undefined ? undefined : this.startedAt + this.limits.wait;
  }

  add(text: string, line: number, index: number, source: string, bad: string | undefined): string | Promise<string> | undefined {
    this.throwPending();
    const size = Buffer.byteLength(text) - (text.charCodeAt(text.length - 1) === 13 ? 1 : 0);
    const full = this.plan === undefined && this.overBytes(size) ? this.flush() : undefined;
    this.records++;
    this.bytes += size;
    this.startedAt ??= performance.now();
    let member: BatchMember | undefined;
    try {
      member = this.runner.parseMember(text, line, index, source, bad);
    } catch (error) {
      // The records before a bad line are written first, as a (short) batch of their own.
      if (this.members.length === 0 && full === undefined) throw error;
      this.pending = { error };
      return full ?? this.flush();
    }
    if (member) this.members.push(member);
    // After a flush for bytes the open batch holds one record, so at most one batch completes per add.
    if (full === undefined && this.records >= (this.plan ? (this.plan[0] ?? Infinity) : this.limits.size)) return this.flush();
    return full;
  }

  /** The open batch, however full (end of input, or --wait). */
  flush(): string | Promise<string> | undefined {
    if (this.records === 0) {
      this.throwPending();
      return undefined;
    }
    const members = this.members;
    this.members = [];
    this.records = 0;
    this.bytes = 0;
    this.startedAt = undefined;
    this.plan?.shift();
    if (members.length === 0) return '';
    if (this.withHandler) return this.runner.runBatch(members);
    this.runner.stats.out++;
    return '[' + members.map((member) => member.text).join(',') + ']\n';
  }

  private overBytes(size: number): boolean {
    return this.limits.bytes !== undefined && this.records > 0 && this.bytes + size > this.limits.bytes;
  }

  private throwPending(): void {
    if (!this.pending) return;
    const { error } = this.pending;
    this.pending = undefined;
    throw error;
  }
}

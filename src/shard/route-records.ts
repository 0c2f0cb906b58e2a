import { LineSplitter, type LineChunk } from '../io/split-lines.js';
import { eachRecord } from '../io/each-record.js';
import { rankOfKey } from '../core/key-hash.js';
import { stampSeq } from './stamp-seq.js';

export interface RecordPlan {
  world: number;
  /** Rank → share written (-1: not written); see shareOfRank. */
  shareOf: Int32Array;
  shares: number;
  /** `--by key:FIELD`; index routing when undefined. */
  key: string | undefined;
  /** `--seq FIELD`. */
  seq: string | undefined;
}

/**
 * The paths of `op shard` that must parse each record: `--by key:FIELD` and `--seq`. A
 * record is written as its line was read (only `--seq` adds to it). A line that is not
 * JSON stops the run with its place, after the records before it were routed.
 */
export class RecordRouter {
  private splitter = new LineSplitter();
  private source = 'stdin';
  private index = 0;
  private outs: string[];

  constructor(private readonly plan: RecordPlan) {
    this.outs = new Array<string>(plan.shares).fill('');
  }

  /** Lines are routed whole, never in part. */
  readonly midLine = false;

  startSource(name: string): void {
    this.splitter = new LineSplitter();
    this.source = name;
  }

  push(buf: Buffer): void {
    const chunk = this.splitter.push(buf);
    if (chunk) this.route(chunk);
  }

  endSource(): void {
    const chunk = this.splitter.end();
    if (chunk) this.route(chunk);
  }

  take(): Array<string | undefined> {
    const taken = this.outs.map((text) => (text === '' ? undefined : text));
    this.outs.fill('');
    return taken;
  }

  private route(chunk: LineChunk): void {
    const { world, shareOf, key, seq } = this.plan;
    eachRecord(chunk, this.source, (text, record) => {
      const index = this.index++;
      const share = shareOf[key === undefined ? index % world : rankOfKey(record, key, world)] as number;
      if (share >= 0) this.outs[share] += (seq === undefined ? text : stampSeq(text, record, seq, index)) + '\n';
    });
  }

}

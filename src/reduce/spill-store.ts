import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LineSplitter } from '../io/split-lines.js';
import { hashText } from '../core/key-hash.js';
import type { Aggregator } from './aggregator.js';
import { collectGarbage } from './collect-garbage.js';

/**
 * 64 partitions: the end-of-input merge holds one partition's groups at a time, so
 * 5,000,000 keys become ~78,000 per merge step, a few MB, whatever --max-memory is.
 */
const PARTITIONS = 64;
/**
 * Writes are gathered to 256 KiB per file: one write() per line would be ~10x slower, and
 * with 1 MiB the buffers of 64 partitions and ~80 buckets alone pushed the merge of
 * 5,000,000 keys past 300 MiB of RSS (bench/RESULTS.md).
 */
const FLUSH_CHARS = 1 << 18;
/** Groups per ordering bucket: at ~50 bytes a line, one bucket sorted in memory is a few MB. */
const BUCKET_ORDS = 1 << 16;

/** How a merged group becomes its output line. */
export type RenderGroup = (keyText: string, state: unknown) => string;

/** A file written in 1 MiB pieces. */
class Appender {
  private fd: number | undefined;
  private text = '';
  /** Something reached the file. */
  written = false;

  constructor(readonly path: string) {}

  add(line: string): void {
    this.text += line;
    if (this.text.length >= FLUSH_CHARS) this.flush();
  }

  flush(): void {
    if (this.text === '') return;
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, this.text);
    this.text = '';
    this.written = true;
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Partial states spilled to disk when --max-memory is reached, merged at end of input.
 * Each spill appends `[ord, keyText, state]` lines to one of 64 files by the key's hash.
 * At the end every partition is merged in memory on its own; the merged groups go to
 * buckets by first-appearance ordinal, and each bucket is sorted and written in turn, so
 * the output keeps the order keys first appeared without holding every group at once.
 */
export class SpillStore {
  readonly dir: string;
  private readonly parts: Appender[];

  /** `heapLimit`: past this many heap bytes between merge steps, collect garbage (see collect-garbage.ts). */
  constructor(
    parent: string,
    private readonly heapLimit: number,
  ) {
    this.dir = mkdtempSync(join(parent, 'op-reduce-'));
    this.parts = Array.from({ length: PARTITIONS }, (_, p) => new Appender(join(this.dir, `part-${p}`)));
  }

  add(keyText: string, ord: number, frozen: unknown): void {
    this.parts[hashText(keyText) % PARTITIONS]!.add(JSON.stringify([ord, keyText, frozen]) + '\n');
  }

  /** Ends one spill: everything added is on disk. */
  flush(): void {
    for (const part of this.parts) part.flush();
  }

  /** Output lines, in first-appearance order, in pieces of about 1 MiB. */
  async *merge(aggregator: Aggregator, render: RenderGroup): AsyncGenerator<string> {
    const buckets = new Map<number, Appender>();
    for (const part of this.parts) {
      part.close();
      if (!part.written) continue;
      const merged = await mergePartition(part, aggregator);
      collectGarbage(this.heapLimit);
      for (const [keyText, group] of merged) {
        const b = Math.floor(group.ord / BUCKET_ORDS);
        let bucket = buckets.get(b);
        if (!bucket) {
          bucket = new Appender(join(this.dir, `bucket-${b}`));
          buckets.set(b, bucket);
        }
        bucket.add(`${group.ord}\t${render(keyText, group.state)}`);
      }
      // One partition's lines at a time: held across partitions, ~80 buckets' buffers cost 100 MB of heap.
      for (const bucket of buckets.values()) bucket.flush();
    }
    for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
      const bucket = buckets.get(b)!;
      bucket.close();
      const path = join(this.dir, `bucket-${b}`);
      const rows = readFileSync(path, 'utf8').split('\n');
      rmSync(path);
      rows.pop();
      const ordered = rows.map((row) => ({ ord: Number(row.slice(0, row.indexOf('\t'))), row })).sort((x, y) => x.ord - y.ord);
      let out = '';
      for (const { row } of ordered) {
        out += row.slice(row.indexOf('\t') + 1) + '\n';
        if (out.length >= FLUSH_CHARS) {
          yield out;
          out = '';
        }
      }
      if (out) yield out;
      collectGarbage(this.heapLimit);
    }
  }

  remove(): void {
    for (const part of this.parts) {
      try {
        part.close();
      } catch {
        // Already failing; the directory goes anyway.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One partition's spilled partial states, merged per key, in the order they were spilled. */
async function mergePartition(part: Appender, aggregator: Aggregator): Promise<Map<string, { ord: number; state: unknown }>> {
  const path = part.path;
  const groups = new Map<string, { ord: number; state: unknown }>();
  const splitter = new LineSplitter();
  const take = (lines: string[]): void => {
    for (const line of lines) {
      if (line === '') continue;
      const [ord, keyText, frozen] = JSON.parse(line) as [number, string, unknown];
      const state = aggregator.thaw(frozen);
      const group = groups.get(keyText);
      if (!group) groups.set(keyText, { ord, state });
      else {
        group.state = aggregator.merge(group.state, state);
        if (ord < group.ord) group.ord = ord;
      }
    }
  };
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const chunk = splitter.push(buf);
    if (chunk) take(chunk.lines);
  }
  const tail = splitter.end();
  if (tail) take(tail.lines);
  rmSync(path);
  return groups;
}

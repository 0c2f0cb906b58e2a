import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkRing } from '../../src/engine/chunk-ring.js';
import { readChunks, type SourceChunk } from '../../src/engine/read-chunks.js';
import type { ChunkSource } from '../../src/io/open-source.js';
import type { BatchLimits } from '../../src/records/batcher.js';

/** A stream source that hands over `parts` as separate reads. */
function source(parts: string[]): ChunkSource {
  const stream = Readable.from(parts.map((part) => Buffer.from(part)));
  return { name: 'stdin', size: undefined, fd: undefined, stream, close: () => {} };
}

async function read(parts: string[], options: { slot?: number; chunk?: number; batch?: BatchLimits; maxLineBytes?: number } = {}): Promise<Array<{ text: string; firstLine: number; firstIndex: number; records: number; batches: number[] | undefined; overlong: boolean }>> {
  const ring = new ChunkRing(4, options.slot ?? 64);
  const numbering = { line: 1, index: 0 };
  const chunks: SourceChunk[] = [];
  const seen = [];
  for await (const chunk of readChunks(source(parts), { ring, numbering, halted: () => false, batch: options.batch, chunkBytes: () => options.chunk ?? 64, maxLineBytes: options.maxLineBytes })) {
    chunks.push(chunk);
    seen.push({ text: chunk.bytes.toString(), firstLine: chunk.firstLine, firstIndex: chunk.firstIndex, records: chunk.records, batches: chunk.batches, overlong: chunk.overlong });
    if (chunk.slot) ring.release(chunk.slot);
  }
  return seen;
}

test('line numbers and record indexes run on across chunk edges; blank lines count as lines, not records', async () => {
  const chunks = await read(['{"a":1}\n{"a"', ':2}\n\n{"a":3}\n{"a":4}', '\n'], { slot: 16, chunk: 16 });
  assert.equal(chunks.map((c) => c.text).join(''), '{"a":1}\n{"a":2}\n\n{"a":3}\n{"a":4}\n');
  // Every chunk holds whole lines, and its first line and index follow the chunk before.
  let line = 1;
  let index = 0;
  for (const chunk of chunks) {
    assert.ok(chunk.text.endsWith('\n'), JSON.stringify(chunk.text));
    assert.is(chunk.firstLine, line);
    assert.is(chunk.firstIndex, index);
    line += chunk.text.split('\n').length - 1;
    index += chunk.records;
  }
  assert.is(index, 4);
});

test('a byte-order mark at the start is dropped, and a last line without a newline is a line', async () => {
  const chunks = await read(['\ufeff{"a":1}\n{"a":2}']);
  assert.equal(chunks.map((c) => c.text).join(''), '{"a":1}\n{"a":2}');
  assert.is(chunks.reduce((n, c) => n + c.records, 0), 2);
});

test('batches are cut by count and by the bytes of the emitted line, and never straddle two chunks', async () => {
  const input = ['1', '22', '333', '4444', '5', '6', '7'].join('\n') + '\n';
  const bySize = await read([input], { batch: { size: 3, bytes: undefined, wait: undefined }, slot: 8, chunk: 8 });
  assert.equal(bySize.flatMap((c) => c.batches ?? []), [3, 3, 1]);
  // `[1,22]` is 6 bytes: over 5, so 1 stands alone; `[5,6]` is exactly 5.
  const byBytes = await read([input], { batch: { size: Infinity, bytes: 5, wait: undefined } });
  assert.equal(byBytes.flatMap((c) => c.batches ?? []), [1, 1, 1, 1, 2, 1]);
  for (const chunk of [...bySize, ...byBytes]) assert.is(chunk.records, (chunk.batches ?? []).reduce((a, b) => a + b, 0));
});

test('a line past the limit is one over-long record, not held; the lines after it go on with their numbers', async () => {
  const long = 'x'.repeat(200);
  const chunks = await read([`{"a":1}\n"${long}"\n{"a":3}\n`], { slot: 16, chunk: 16, maxLineBytes: 40 });
  const overlong = chunks.filter((c) => c.overlong);
  assert.is(overlong.length, 1);
  assert.is(overlong[0]!.firstLine, 2);
  assert.is(overlong[0]!.firstIndex, 1);
  const after = chunks.find((c) => c.text.includes('{"a":3}'))!;
  assert.is(after.firstLine, 3);
  assert.is(after.firstIndex, 2);
});


/** Reads `path` by descriptor, read ahead as the inline path does; `after` runs once the first chunk is out. */
async function readFile(path: string, after?: () => void): Promise<string> {
  return (await readFileChunks(path, after)).text;
}

/** readFile, with the bytes of each chunk. */
async function readFileChunks(path: string, after?: () => void): Promise<{ text: string; sizes: number[] }> {
  const fd = openSync(path, 'r');
  const ring = new ChunkRing(4, 64 * 1024);
  let text = '';
  const sizes: number[] = [];
  try {
    const file: ChunkSource = { name: path, size: undefined, fd, readAhead: true, stream: Readable.from([]), close: () => {} };
    for await (const chunk of readChunks(file, { ring, numbering: { line: 1, index: 0 }, halted: () => false, batch: undefined, chunkBytes: () => 64 * 1024 })) {
      text += chunk.bytes.toString();
      sizes.push(chunk.bytes.length);
      if (chunk.slot) ring.release(chunk.slot);
      after?.();
      after = undefined;
    }
  } finally {
    closeSync(fd);
  }
  return { text, sizes };
}

/** 20,000 lines of 9 to 120 bytes, in a file of their own (about 1.3 MB: many reads and chunks). */
const aheadDir = mkdtempSync(join(tmpdir(), 'opkit-read-ahead-'));
const aheadPath = join(aheadDir, 'in.ndjson');
const aheadContent = Array.from({ length: 20_000 }, (_, k) => `{"k":${k},"pad":"${'x'.repeat(k % 97)}"}\n`).join('');
writeFileSync(aheadPath, aheadContent);

test('a file read ahead comes through whole and in order, across reads and chunk edges', async () => {
  assert.ok((await readFile(aheadPath)) === aheadContent);
});

test('chunks read ahead are full: a chunk that starts with a partial line reads on into the next read', async () => {
  const { text, sizes } = await readFileChunks(aheadPath);
  assert.ok(text === aheadContent);
  // Each chunk but the last fills its 64 KiB up to its last whole line (lines here are under 120 bytes).
  const short = sizes.slice(0, -1).filter((size) => size < 64 * 1024 - 120);
  assert.equal(short, [], `chunks of ${sizes.join(', ')} bytes`);
});

test('a file that grows while read ahead leaves no gap: after a short read, reading goes on from where it ended', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opkit-read-ahead-'));
  const path = join(dir, 'in.ndjson');
  // 100 KB: a whole 64 KiB read, then a short one, with reads issued past the end.
  const first = Array.from({ length: 1000 }, (_, k) => `{"k":${k},"pad":"${'y'.repeat(80)}"}\n`).join('');
  writeFileSync(path, first);
  const more = Array.from({ length: 2000 }, (_, k) => `{"more":${k},"pad":"${'z'.repeat(80)}"}\n`).join('');
  const text = await readFile(path, () => appendFileSync(path, more));
  const whole = first + more;
  assert.ok(text.length >= first.length, `${text.length} bytes read of ${first.length}`);
  assert.ok(text === whole.slice(0, text.length), 'what was read is not the file from its start');
  rmSync(dir, { recursive: true });
});

test('slots are shared memory only for an executor whose workers read chunks in place, also when grown for a long line', async () => {
  for (const sharedSlots of [false, true]) {
    const ring = ChunkRing.for({ capacity: 2, slotBytes: 64, sharedSlots });
    const long = `{"a":"${'x'.repeat(200)}"}`;
    const numbering = { line: 1, index: 0 };
    const texts: string[] = [];
    for await (const chunk of readChunks(source(['{"a":1}\n', `${long}\n`, '{"a":2}\n']), { ring, numbering, halted: () => false, batch: undefined, chunkBytes: () => 64, maxLineBytes: undefined })) {
      texts.push(chunk.bytes.toString());
      assert.is(chunk.bytes.buffer instanceof SharedArrayBuffer, sharedSlots, `chunk ${texts.length} of a ring with sharedSlots ${sharedSlots}`);
      assert.is(chunk.sab === undefined, !sharedSlots);
      if (chunk.sab) assert.is(chunk.bytes.buffer, chunk.sab);
      if (chunk.slot) ring.release(chunk.slot);
    }
    assert.is(texts.join(''), `{"a":1}\n${long}\n{"a":2}\n`);
  }
});

test.after(() => rmSync(aheadDir, { recursive: true }));

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isBlankText } from '../../src/io/is-blank-line.js';
import { IndexRouter } from '../../src/io/route-by-index.js';
import { shareOfRank } from '../../src/io/share-buffers.js';

/** What every share must hold, computed the slow way: decode, split, skip blanks, count. */
function expected(sources: string[], world: number): string[] {
  const shares = new Array<string>(world).fill('');
  let i = 0;
  for (const source of sources) {
    const text = source.startsWith('\ufeff') ? source.slice(1) : source;
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      if (isBlankText(line)) continue;
      shares[i++ % world] += line + '\n';
    }
  }
  return shares;
}

/** Routes `sources` cut into reads of `size` bytes, writing every share (as --split does). */
function route(sources: string[], world: number, size: number): string[] {
  const ranks = Array.from({ length: world }, (_, rank) => rank);
  const router = new IndexRouter(world, shareOfRank(world, ranks), world);
  const outs = ranks.map(() => [] as Buffer[]);
  const collect = (): void => {
    for (const [share, buf] of router.take().entries()) if (buf) outs[share]?.push(Buffer.from(buf));
  };
  for (const source of sources) {
    const bytes = Buffer.from(source, 'utf8');
    router.startSource();
    for (let at = 0; at < bytes.length; at += size) {
      router.push(bytes.subarray(at, at + size));
      collect();
    }
    router.endSource();
    collect();
  }
  return outs.map((list) => Buffer.concat(list).toString('utf8'));
}

/** One rank only, as op shard --rank r does. */
function routeOne(source: string, rank: number, world: number, size: number): string {
  const router = new IndexRouter(world, shareOfRank(world, [rank]), 1);
  const out: Buffer[] = [];
  const bytes = Buffer.from(source, 'utf8');
  router.startSource();
  for (let at = 0; at < bytes.length; at += size) {
    router.push(bytes.subarray(at, at + size));
    const [buf] = router.take();
    if (buf) out.push(Buffer.from(buf));
  }
  router.endSource();
  const [buf] = router.take();
  if (buf) out.push(buf);
  return Buffer.concat(out).toString('utf8');
}

const TRICKY = [
  '\ufeff{"a":0}\n',
  '\n',
  '   \n',
  '\r\n',
  '{"a":1}\r\n',
  ' {"a":2}\n',
  '\t\t\n',
  '"\u00e9t\u00e9"\n',
  '\u00a0\n', // NBSP alone is not blank in opkit (isBlank looks at the first character)
  '\ufeff\n', // a BOM inside the file, alone on its line: blank
  ' \ufeff \n',
  '[3,4]\n',
  '{"long":"' + 'x'.repeat(300) + '"}\n',
  '    {"a":5}\n',
  '{"a":6}',
].join('');

test('every read size gives every share exactly its records: blanks, BOM, CRLF, no final newline', () => {
  for (const world of [1, 2, 3, 7]) {
    const want = expected([TRICKY], world);
    for (let size = 1; size <= 40; size++) assert.equal(route([TRICKY], world, size), want, `world ${world}, reads of ${size}`);
    assert.equal(route([TRICKY], world, 1 << 20), want, `world ${world}, one read`);
  }
});

test('one rank alone gets the same share as --split writes for it', () => {
  for (const world of [1, 2, 3, 7]) {
    const want = expected([TRICKY], world);
    for (let rank = 0; rank < world; rank++) {
      for (const size of [1, 2, 3, 5, 64, 4096]) assert.is(routeOne(TRICKY, rank, world, size), want[rank], `rank ${rank} of ${world}, reads of ${size}`);
    }
  }
});

test('the index runs on across sources; each source may start with a BOM and end without a newline', () => {
  const sources = ['{"s":1}\n{"s":2}', '\ufeff{"s":3}\n\n{"s":4}\n', '', '\ufeff', '\n \n', '{"s":5}'];
  for (const world of [1, 2, 3]) {
    for (const size of [1, 2, 3, 7, 100]) assert.equal(route(sources, world, size), expected(sources, world), `world ${world}, reads of ${size}`);
  }
});

test('BOM bytes are only skipped at the very start of a source', () => {
  assert.equal(route(['\ufeff\ufeff{"a":1}\n'], 1, 1), ['\ufeff{"a":1}\n']);
  assert.equal(route(['\u00ef{"a":1}\n'], 1, 1), ['\u00ef{"a":1}\n']);
  assert.equal(route(['\ufeff'], 1, 1), ['']);
});

test('world 1 passes a clean read through as one slice, without a copy', () => {
  const router = new IndexRouter(1, shareOfRank(1, [0]), 1);
  const read = Buffer.from('{"a":1}\n{"a":2}\n');
  router.startSource();
  router.push(read);
  const [out] = router.take();
  assert.ok(out !== undefined && out.buffer === read.buffer && out.length === read.length);
});

test('random inputs and random read sizes (seeded)', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = ['{"k":1}', '[]', '"s"', '', ' ', '\r', '  {"x":true}', '\u00a0', '\ufeff', '{"u":"\u65e5\u672c"}', '1', 'null'];
  for (let round = 0; round < 200; round++) {
    let text = rand(4) === 0 ? '\ufeff' : '';
    const count = rand(30);
    for (let k = 0; k < count; k++) text += pieces[rand(pieces.length)] + (rand(5) === 0 ? '\r\n' : '\n');
    if (rand(2) === 0) text += pieces[rand(pieces.length)];
    const world = 1 + rand(5);
    assert.equal(route([text], world, 1 + rand(20)), expected([text], world), JSON.stringify(text));
  }
});

test.run();

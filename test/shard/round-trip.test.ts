import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ndjson } from '../helpers/run-op.js';
import { makeRecords, scratch, sh } from './op-shell.js';

/**
 * The promise of --seq: shard 4 ways, process each share apart, merge by the stamp, drop
 * it, and the result is byte for byte what one process over the whole file writes.
 */
const MAP = `'(r.x = r.id * 2, r)'`;

test('shard --seq 4 ways | map | merge --key --numeric | drop the stamp == map over the whole file', async () => {
  // Blank lines, a BOM and CRLF line ends too: every path must see the same records.
  const input = '\ufeff' + ndjson(makeRecords(3000)).replace(/\n(?=\{"id":7\b)/, '\n\n  \n').replace(/\n(?=\{"id":11\b)/, '\r\n');
  const work = scratch({ 'in.ndjson': input });
  try {
    const result = await sh(
      [
        'set -e',
        `for r in 0 1 2 3; do op shard --rank $r --world 4 --seq _i < in.ndjson | op map ${MAP} > out.$r.ndjson; done`,
        `op merge --key _i --numeric 'out.*.ndjson' | op map '(delete r._i, r)' > merged.ndjson`,
        `op map ${MAP} < in.ndjson > direct.ndjson`,
      ].join('\n'),
      work.dir,
    );
    assert.is(result.status, 0, result.stderr);
    const direct = work.read('direct.ndjson');
    assert.is(direct.split('\n').length - 1, 3000);
    assert.ok(work.read('out.0.ndjson').length > 0 && work.read('out.3.ndjson').length > 0);
    assert.is(work.read('merged.ndjson'), direct);
  } finally {
    work.remove();
  }
});

test('index shares come back in order with merge --round-robin after a 1:1 stage', async () => {
  const work = scratch({ 'in.ndjson': ndjson(makeRecords(1001)) });
  try {
    const result = await sh(
      [
        'set -e',
        `op shard --split 'in.{rank}.ndjson' --world 3 < in.ndjson`,
        `for r in 0 1 2; do op map ${MAP} < in.$r.ndjson > out.$r.ndjson; done`,
        `op merge --round-robin out.0.ndjson out.1.ndjson out.2.ndjson > merged.ndjson`,
        `op map ${MAP} < in.ndjson > direct.ndjson`,
      ].join('\n'),
      work.dir,
    );
    assert.is(result.status, 0, result.stderr);
    assert.is(work.read('merged.ndjson'), work.read('direct.ndjson'));
  } finally {
    work.remove();
  }
});

test.run();

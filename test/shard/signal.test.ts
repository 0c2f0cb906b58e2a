import { test } from 'uvu';
import { assertStopsOnLine } from './stop-mid-stream.js';

for (const [label, args] of [
  ['the byte path (--by index)', ['shard', '--rank', '0', '--world', '1']],
  ['the byte path, one share of two', ['shard', '--rank', '1', '--world', '2']],
  ['--by key', ['shard', '--by', 'key:i', '--rank', '0', '--world', '1']],
] as const) {
  test(`op shard ${label}: SIGINT and SIGTERM on stdin leave only whole lines, exit 130/143`, () => assertStopsOnLine(args));
}

test.run();

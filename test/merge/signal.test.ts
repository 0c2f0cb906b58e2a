import { test } from 'uvu';
import { assertStopsOnLine } from '../shard/stop-mid-stream.js';

for (const [label, args] of [
  ['concatenation', ['merge', '-']],
  ['--round-robin', ['merge', '--round-robin', '-']],
  ['--key', ['merge', '--key', 'i', '-']],
] as const) {
  test(`op merge ${label}: SIGINT and SIGTERM on stdin leave only whole lines, exit 130/143`, () => assertStopsOnLine(args));
}

test.run();

import BatchCommand from './batch.js';
import EachCommand from './each.js';
import FilterCommand from './filter.js';
import MapCommand from './map.js';
import MergeCommand from './merge.js';
import ShardCommand from './shard.js';
import SliceCommand from './slice.js';
import WatchCommand from './watch.js';

// oclif's runner beside the table: scripts/bundle.mjs bundles both into dist/op.mjs, the
// single file the CLI loads at start-up.
export { execute } from '@oclif/core';

/** Every command, registered in one table (oclif's explicit strategy). */
export const COMMANDS = {
  map: MapCommand,
  filter: FilterCommand,
  slice: SliceCommand,
  batch: BatchCommand,
  watch: WatchCommand,
  each: EachCommand,
  shard: ShardCommand,
  merge: MergeCommand,
};

import { STEP_CLASSES } from './base-handler.js';
import BatchCommand from './batch.js';
import ChainCommand from './chain.js';
import EachCommand from './each.js';
import FilterCommand from './filter.js';
import HelpCommand from './help.js';
import MapCommand from './map.js';
import MergeCommand from './merge.js';
import QueueDeadCommand from './queue-dead.js';
import QueuePullCommand from './queue-pull.js';
import QueuePushCommand from './queue-push.js';
import QueueRetryDeadCommand from './queue-retry-dead.js';
import QueueStatsCommand from './queue-stats.js';
import QueueTrimCommand from './queue-trim.js';
import RunCommand from './run.js';
import ReduceCommand from './reduce.js';
import ShardCommand from './shard.js';
import SliceCommand from './slice.js';
import TeeCommand from './tee.js';
import WatchCommand from './watch.js';

// oclif's runner beside the table: scripts/bundle.mjs bundles both, and the engine, into
// dist/src/bundle/op.mjs, the file the CLI loads at start-up.
export { execute } from '@oclif/core';
// oclif finds it by name, through package.json's oclif.hooks.
export { commandNotFound } from './shared/command-not-found.js';

STEP_CLASSES.map = MapCommand;
STEP_CLASSES.filter = FilterCommand;
STEP_CLASSES.slice = SliceCommand;
STEP_CLASSES.batch = BatchCommand;

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
  chain: ChainCommand,
  tee: TeeCommand,
  'queue:push': QueuePushCommand,
  'queue:stats': QueueStatsCommand,
  'queue:pull': QueuePullCommand,
  'queue:dead': QueueDeadCommand,
  'queue:retry-dead': QueueRetryDeadCommand,
  'queue:trim': QueueTrimCommand,
  help: HelpCommand,
  run: RunCommand,
  reduce: ReduceCommand,
};

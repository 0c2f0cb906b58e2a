import type { Aggregator } from './aggregator.js';
import { builtinAggregator, collectAggregator, parseAggregates } from './builtin-aggregates.js';
import { handlerAggregator, type HandlerParts } from './handler-aggregator.js';

/** What is computed, as plain data, so a worker thread can build the same aggregator. */
export interface AggregatorSpec {
  agg: string | undefined;
  collect: boolean;
  handler: HandlerParts;
}

export async function loadAggregator(spec: AggregatorSpec): Promise<Aggregator> {
  if (spec.agg !== undefined) return builtinAggregator(parseAggregates(spec.agg));
  if (spec.collect) return collectAggregator();
  return handlerAggregator(spec.handler);
}

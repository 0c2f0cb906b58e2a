import { availableParallelism } from 'node:os';
import { UsageError } from '../core/errors.js';

/** `--workers N|auto` as a count; auto is one worker per core the process may use. */
export function resolveWorkers(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--workers takes a positive whole number or auto, got ${JSON.stringify(value)}`);
  return n;
}

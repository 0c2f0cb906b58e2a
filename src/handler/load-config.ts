import { readFileSync } from 'node:fs';
import { UsageError, describeCause } from '../core/errors.js';

/** `--config FILE|JSON`: inline JSON when it looks like JSON, otherwise a JSON file. */
export function loadConfig(value: string | undefined): unknown {
  if (value === undefined) return {};
  const inline = /^\s*[[{"]/.test(value);
  let text = value;
  if (!inline) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      throw new UsageError(`--config: cannot read ${value}: ${describeCause(error)}`, { cause: error });
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config${inline ? '' : ` ${value}`}: ${describeCause(error)}`, { cause: error });
  }
}

import { delimiter } from 'node:path';
import type { Kind } from '../core/errors.js';
import { PYTHON_DIR } from '../io/python-dir.js';

export interface ChildEnvOptions {
  kind: Kind;
  rank: number;
  world: number;
  workerId: number;
  config: unknown;
  /** --side with --protocol json: the folder of the side input versions, `<version>.json` each. */
  sideDir?: string | undefined;
}

/**
 * A child's environment: op's own, plus where it stands (OP_RANK, OP_WORLD_SIZE,
 * OP_WORKER_ID 1..N), what it serves (OP_COMMAND), the operator's options (OP_CONFIG, the
 * --config JSON), PYTHONUNBUFFERED=1 (a Python child's stdout is block-buffered on a pipe,
 * and a reply held in its buffer while op waits for it would stop the run) and PYTHONPATH
 * with the helper's folder first, so `from opkit import run` works without an install.
 */
export function childEnv(base: NodeJS.ProcessEnv, options: ChildEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    OP_RANK: String(options.rank),
    OP_WORLD_SIZE: String(options.world),
    OP_WORKER_ID: String(options.workerId),
    OP_COMMAND: options.kind,
    OP_CONFIG: JSON.stringify(options.config ?? {}),
    PYTHONUNBUFFERED: '1',
  };
  if (options.sideDir !== undefined) env.OP_SIDE_DIR = options.sideDir;
  if (PYTHON_DIR !== undefined) env.PYTHONPATH = base.PYTHONPATH ? `${PYTHON_DIR}${delimiter}${base.PYTHONPATH}` : PYTHON_DIR;
  return env;
}

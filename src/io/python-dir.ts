import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package's `python/` folder (opkit.py, the helper that speaks --protocol json, and
 * opkit_jobs.py, op each's job runner): from dist/src/<folder>, three levels up; from
 * src/<folder> (run from source), two.
 */
export const PYTHON_DIR = [new URL('../../../python', import.meta.url), new URL('../../python', import.meta.url)].map((url) => fileURLToPath(url)).find((dir) => existsSync(dir));

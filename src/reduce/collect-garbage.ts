import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full garbage collection when the heap holds more than `above` bytes, called right after
 * a spill dropped every group (when the live size is smallest). V8 sizes its next heap limit
 * from the live size at its last full collection: left alone, a run with 5,000,000 keys and
 * --max-memory 200MB reached 820 MB of RSS, most of it garbage; with this, 258 MiB
 * (bench/RESULTS.md).
 */
export function collectGarbage(above = 0): void {
  if (above > 0 && getHeapStatistics().used_heap_size < above) return;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

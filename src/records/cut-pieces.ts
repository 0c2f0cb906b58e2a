/**
 * 112 KiB: a piece's decoded text and its output stay under V8's 128 KiB limit for ordinary
 * heap objects, so they are recycled by the young generation instead of each being mapped
 * afresh (bench/RESULTS.md: 38k page faults over 1,000,000 records, against 128k).
 */
export const PIECE_BYTES = 112 * 1024;

/**
 * A task's bytes in pieces of about `size`, each cut just after a newline (a line longer
 * than `size` is a piece of its own). Tasks can then be large enough that messages cost
 * little, while the work inside them runs in pieces the heap recycles.
 */
export function* cutPieces(bytes: Buffer, size = PIECE_BYTES): Generator<Buffer> {
  for (let pos = 0; pos < bytes.length; ) {
    let end = Math.min(bytes.length, pos + size);
    if (end < bytes.length) {
      const nl = bytes.lastIndexOf(10, end - 1);
      end = nl >= pos ? nl + 1 : bytes.indexOf(10, end) + 1 || bytes.length;
    }
    yield bytes.subarray(pos, end);
    pos = end;
  }
}

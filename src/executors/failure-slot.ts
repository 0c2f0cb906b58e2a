/**
 * A place in shared memory where any worker can leave one line for the main thread: the
 * first failure of a teardown. Tinypool runs teardown on its own as it ends each worker and
 * turns a throw there into an unhandled rejection of the main thread (a raw stack trace
 * instead of opkit's `teardown failed: …`), so the worker catches it and writes it here.
 */
const BYTES = 4096;
/** Int32 0: 0 empty, 1 taken; int32 1: the length in bytes; the UTF-8 text after 8 bytes. */
const HEADER = 8;

export function newFailureSlot(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + BYTES);
}

/** Leaves `text` in the slot unless another worker got there first. */
export function writeFailure(slot: SharedArrayBuffer, text: string): void {
  const header = new Int32Array(slot, 0, 2);
  if (Atomics.compareExchange(header, 0, 0, 1) !== 0) return;
  const { written } = new TextEncoder().encodeInto(text, new Uint8Array(slot, HEADER, BYTES));
  Atomics.store(header, 1, written);
}

/** The text left in the slot, if any. */
export function readFailure(slot: SharedArrayBuffer): string | undefined {
  const header = new Int32Array(slot, 0, 2);
  if (Atomics.load(header, 0) === 0) return undefined;
  return new TextDecoder().decode(new Uint8Array(slot, HEADER, Atomics.load(header, 1)).slice());
}

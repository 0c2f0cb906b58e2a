/** How often a wait for queued bytes looks again. */
const LOOK_MS = 2;

/**
 * Resolves once every byte written to `stream` has been handed to the system, or the stream
 * is gone (a closed pipe). The callback of an empty write is not that: under Node 22 a
 * pipe's comes back while earlier bytes still wait in the queue (`op map … | slow-reader`
 * lost all but the first 64 KiB when op exited on it).
 */
export function untilWritten(stream: { writableLength: number; destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const look = (): void => {
      if (stream.writableLength === 0 || stream.destroyed === true) resolve();
      else setTimeout(look, LOOK_MS);
    };
    look();
  });
}

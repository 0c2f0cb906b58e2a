/**
 * What a merge needs to know of a stop (SIGINT, SIGTERM): whether it came, and a way to cut
 * a blocked read short when it does. The engine's StopSignal is one.
 */
export interface MergeStop {
  readonly stopped: boolean;
  /** Runs `listener` on the stop; returns a function that removes it. */
  onStop(listener: () => void): () => void;
}

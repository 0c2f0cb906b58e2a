/** Exit statuses shared by every command (DESIGN.md section 4). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  deadLettered: 3,
} as const;

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** 128 + the signal's number, as shells report a process stopped by it. */
export function exitCodeForSignal(signal: string): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 15);
}

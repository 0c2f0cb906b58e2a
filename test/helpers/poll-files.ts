import { existsSync, readFileSync } from 'node:fs';

/** Lines in a file that a running process appends to (0 while it does not exist). */
export function countLines(path: string): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  return text === '' ? 0 : text.split('\n').length - 1;
}

/** Polls every 10 ms until `ready()`, failing after `timeoutMs` with what was awaited. */
export async function until(ready: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

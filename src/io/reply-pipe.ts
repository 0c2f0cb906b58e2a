import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Both ends of a pipe: `write` for a child's stdio, `read` for op. */
export interface PipeEnds {
  read: number;
  write: number;
}

/** Set once making a pipe failed (no mkfifo, say): later children use Node's socket pair at once. */
let unavailable = false;

/**
 * A real pipe for a child's stdout, where Node's `'pipe'` stdio is a Unix socket pair. A
 * child that writes one reply per line (a Python child under PYTHONUNBUFFERED, `jq
 * --unbuffered`) makes one write(2) per reply, and a socket pays for a buffer of its own
 * for each: over 300,000 replies of a Python pass-through at -w 2 the system CPU was
 * 1.42-1.64 s through socket pairs and 0.69-0.83 s through pipes (bench/RESULTS.md).
 * Node has no call that makes an anonymous pipe, so this makes a FIFO in a folder of its
 * own (mode 0700), opens both ends and removes it: nothing stays in the file system, and
 * no other process could open it meanwhile. Undefined where that fails; the caller then
 * uses `'pipe'`.
 */
export function openReplyPipe(): PipeEnds | undefined {
  if (unavailable || process.platform === 'win32') return undefined;
  let dir: string | undefined;
  let read: number | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'opkit-pipe-'));
    const path = join(dir, 'out');
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
    // The read end first and without blocking; then the write end opens at once.
    read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(path, constants.O_WRONLY);
    return { read, write };
  } catch {
    unavailable = true;
    if (read !== undefined) closeSync(read);
    return undefined;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** A file by device and inode: what a descriptor points at, whatever its path now. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** O_ACCMODE, O_WRONLY and O_RDWR (asm-generic/fcntl.h). */
const ACCESS_MODE = 0o3;
const WRITE_ONLY = 0o1;
const READ_WRITE = 0o2;

/**
 * Which of `files` some process holds open for writing, found as fuser finds the users of a
 * file: every descriptor under /proc/PID/fd that leads to the same device and inode, with
 * its access mode read from /proc/PID/fdinfo/FD. Only descriptors whose link names a path
 * are looked at (pipes, sockets and anonymous inodes are most of them). Processes of other
 * users cannot be looked into without privileges and are missed. Returns undefined where
 * there is no /proc to ask (not Linux): the caller then relies on the quiet period alone.
 * A scan of ~110 processes and ~750 descriptors takes 10-20 ms on a busy 2-core machine.
 */
export function findOpenForWriting(files: readonly FileIdentity[]): Set<string> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc');
    readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  const wanted = new Set(files.map(identityKey));
  const writing = new Set<string>();
  for (const pid of pids) {
    const first = pid.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // Gone meanwhile, or another user's process.
      continue;
    }
    for (const fd of fds) {
      const link = `/proc/${pid}/fd/${fd}`;
      const key = identityOfLink(link);
      if (key === undefined || !wanted.has(key) || writing.has(key)) continue;
      if (opensForWriting(`/proc/${pid}/fdinfo/${fd}`)) writing.add(key);
    }
  }
  return writing;
}

export function identityKey(file: FileIdentity): string {
  return `${file.dev}:${file.ino}`;
}

function identityOfLink(link: string): string | undefined {
  try {
    if (readlinkSync(link).charCodeAt(0) !== 47) return undefined;
    const stats = statSync(link, { throwIfNoEntry: false });
    return stats === undefined ? undefined : identityKey(stats);
  } catch {
    return undefined;
  }
}

/** fdinfo's `flags:` line holds the open(2) flags in octal, e.g. `0100001` for O_WRONLY. */
function opensForWriting(fdinfo: string): boolean {
  let text: string;
  try {
    text = readFileSync(fdinfo, 'latin1');
  } catch {
    return false;
  }
  const match = /^flags:\s*([0-7]+)/m.exec(text);
  if (match === null) return false;
  const mode = parseInt(match[1] as string, 8) & ACCESS_MODE;
  return mode === WRITE_ONLY || mode === READ_WRITE;
}

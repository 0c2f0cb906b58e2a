import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often a group is checked for members while it is given time to exit. */
const POLL_MS = 50;

/** Sends `signal` to every process of group `pgid`; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    // A negative pid addresses the whole group: the command and everything it started.
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * True while a live (not zombie) process is in group `pgid`. kill(-pgid, 0) alone would
 * count zombies, and an init that does not reap (as in many containers) leaves them for
 * ever; /proc tells them apart. Without /proc, fall back to kill(-pgid, 0).
 */
export function isGroupAlive(pgid: number): boolean {
  // The common case, a group already empty, costs one syscall and no /proc scan.
  if (!signalGroup(pgid, 0)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    const fields = statFields(pid);
    // Fields after the command name: state, ppid, pgrp (proc(5)).
    if (fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) return true;
  }
  return false;
}

function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Resolves once group `pgid` has no live process, or after `ms`; true if it is gone. */
export async function waitForGroupExit(pgid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/** SIGTERM to the whole group, then SIGKILL after `graceMs` to whatever ignored it. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  if (await waitForGroupExit(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL cannot be caught or ignored; wait for the kernel to finish it off.
  await waitForGroupExit(pgid, 5_000);
}

/**
 * Whether process `pid` and every process it started are asleep (state S: blocked reading
 * their input, waiting for a child or a timer), none of them running or being started: a
 * program that has got past its start-up. False while one runs or once `pid` is gone;
 * undefined where /proc cannot tell (no /proc, or no `children` files).
 */
export function isTreeAsleep(pid: number): boolean | undefined {
  const fields = statFields(String(pid));
  if (fields === undefined) return existsSync('/proc/self/stat') ? false : undefined;
  if (fields[0] !== 'S') return false;
  let children: string;
  try {
    // Linux 3.5+ (CONFIG_PROC_CHILDREN); the main thread's children are the process's.
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return existsSync(`/proc/${pid}`) ? undefined : false;
  }
  for (const child of children.trim().split(/\s+/)) {
    // A child that ended (or is ending) is no longer part of the tree.
    const state = child === '' ? undefined : statFields(child)?.[0];
    if (state === undefined || state === 'Z' || state === 'X') continue;
    const asleep = isTreeAsleep(Number(child));
    if (asleep !== true) return asleep;
  }
  return true;
}

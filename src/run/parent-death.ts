import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let wrapper: string[] | null | undefined;

/**
 * The argv prefix that makes the kernel SIGKILL a worker when op run dies, even by
 * SIGKILL: util-linux `setpriv --pdeathsig KILL` sets PR_SET_PDEATHSIG, then execs the
 * command in the same process (same pid, so still the group leader). It covers the worker
 * itself, not what it starts; the watchdog and the group kills cover those. Empty where
 * setpriv is missing, too old for --pdeathsig (util-linux < 2.33), or not Linux.
 */
export function parentDeathPrefix(env: NodeJS.ProcessEnv): string[] {
  if (wrapper === undefined) wrapper = findSetpriv(env);
  return wrapper ?? [];
}

function findSetpriv(env: NodeJS.ProcessEnv): string[] | null {
  if (process.platform !== 'linux') return null;
  const path = (env.PATH ?? '').split(delimiter).map((dir) => join(dir || '.', 'setpriv')).find(isExecutable);
  if (path === undefined) return null;
  const prefix = [path, '--pdeathsig', 'KILL', '--'];
  // One trial run (a few ms) proves the option exists and prctl is allowed here.
  const trial = spawnSync(prefix[0] ?? path, [...prefix.slice(1), 'true'], { stdio: 'ignore', timeout: 5_000 });
  return trial.status === 0 ? prefix : null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

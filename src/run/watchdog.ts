import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A fixed shell script, no data in it: group ids arrive on stdin as `+PGID` (watch) and
 * `-PGID` (gone), digits checked. It ignores the signals a terminal or a kill of op run
 * sends, and when stdin reaches end of file (op run exited, however it died: the kernel
 * closes the pipe) it SIGKILLs every group still listed.
 */
const SCRIPT = `trap '' INT TERM HUP QUIT PIPE
groups=' '
while IFS= read -r line; do
  id=\${line#?}
  case $id in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) groups="$groups$id " ;;
    -*) case $groups in *" $id "*) groups="\${groups%%" $id "*} \${groups#*" $id "}" ;; esac ;;
  esac
done
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
`;

/**
 * A process outside op run that ends the workers' groups when op run dies without
 * cleaning up (kill -9, an out-of-memory kill). It needs nothing from the workers; it
 * runs in its own session so a Ctrl-C at the terminal does not reach it. Costs one `sh`.
 */
export class Watchdog {
  private readonly child: ChildProcess;
  private open = true;

  constructor() {
    this.child = spawn('/bin/sh', ['-c', SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    // A watchdog that could not start leaves parent-death signals and group kills on duty.
    this.child.on('error', () => (this.open = false));
    this.child.stdin?.on('error', () => (this.open = false));
    // Neither the watchdog nor its pipe keeps op run alive.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  watch(pgid: number): void {
    this.send(`+${pgid}\n`);
  }

  /** The group is empty: forget it, so a later process reusing the id is never touched. */
  forget(pgid: number): void {
    this.send(`-${pgid}\n`);
  }

  /** op run is done and left no group behind: the watchdog exits. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.child.stdin?.end();
  }

  private send(line: string): void {
    if (this.open) this.child.stdin?.write(line);
  }
}

import { Flags } from '@oclif/core';
import { UsageError } from '../src/core/errors.js';
import { OpCommand } from './base-command.js';
import { reportFlags, wholeNumber } from './base-flags.js';

export default class RunCommand extends OpCommand {
  static override summary = 'Run N identical workers with rank variables, restart policies, whole-line output and no orphans.';
  static override usage = ['run -w N [FLAGS] -- COMMAND ARGS…'];
  static override description = `Starts N copies of COMMAND (an argv, never a shell string), each the leader of its own process group, and supervises them until every one has ended.

Each worker's environment has OP_RANK, OP_LOCAL_RANK, OP_WORLD_SIZE, OP_LOCAL_WORLD_SIZE and OP_RESTART_COUNT, and sdrun's SDRUN_MODE=true, SDRUN_RANK, SDRUN_LOCAL_RANK and SDRUN_WORLD_SIZE, so op shard inside a worker takes its share with no flags. Across hosts, --nodes M --node-rank K (else SLURM_NNODES/SLURM_NODEID, else NNODES/NODE_RANK) make the rank K × N + the local rank, and the world M × N. stdin is /dev/null: give workers their input by file.

Policy: --restart starts a worker that exited non-zero again (never, always, or at most N times), after 1 s (--restart-delay) doubling per crash up to 30 s, less up to 20% jitter; a run of 30 s counts as healthy and resets the delay. A worker that fails more than --max-restarts-in N/SECONDS gives up whatever --restart says. --success-exit and --failure-exit say whether a final clean or failed exit stops the other workers (SIGTERM, then SIGKILL after --stop-timeout).

Exit status: the sum of the workers' final statuses, capped at 255 (so 100 + 100 + 100 is 255, never a wrapped-around 44); after --failure-exit shutdown, the failing worker's status; after --success-exit shutdown, the sum over workers that ended on their own; after a signal, 128 + its number.

Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT are passed on to every worker's process group; groups still alive after --stop-timeout get SIGKILL, and a second signal sends it at once. When a worker exits, what it left running in its group gets SIGTERM, then SIGKILL after --stop-timeout. Workers die with op run even when it is killed with SIGKILL: a parent-death signal (util-linux setpriv --pdeathsig, where it exists), a watchdog process that kills their groups once op run is gone, and a group kill on every exit path. A process that leaves its group on purpose (setsid) escapes all three.

Output: lines are never torn, however the workers write; a last line without a newline gets one. stderr lines are prefixed [worker-RANK#RESTARTS][stderr]. stdout is whole lines, unprefixed (--stdout lines, so the output of N op commands is still NDJSON), prefixed like stderr (--stdout prefix), or one file per worker (--stdout 'out-{rank}.ndjson', with {rank}, {local_rank} and {world} filled in).

--events FILE appends one NDJSON line per lifecycle event: start (pid), exit (code, signal, ms), restart (delay in ms), give-up (reason), signal, shutdown (reason, by) and kill, each with the worker's rank, its generation and the time.`;
  static override examples = [
    { description: 'Four workers, each mapping its share of one file; the output is still NDJSON.', command: `op run -w 4 -- sh -c 'op shard --in data.ndjson | op map ./work.ts' > out.ndjson` },
    { description: 'One file per worker, restarting crashes, with a lifecycle log.', command: `op run -w 8 --restart always --events run.ndjson --stdout 'out-{rank}.ndjson' -- op map ./embed.ts --in data.ndjson` },
    { description: 'Host 1 of 2 (ranks 4 to 7 of 8); stop everything when one worker fails.', command: `op run -w 4 --nodes 2 --node-rank 1 --failure-exit shutdown -- ./train.sh` },
    { description: 'Under Slurm, one op run per node; nodes and node rank come from the environment.', command: `$ srun --ntasks-per-node 1 op run -w 4 -- python worker.py` },
  ];
  static override strict = false;
  static override flags = {
    workers: Flags.string({ char: 'w', summary: 'Workers to run on this host (auto: one per core).', helpValue: 'N|auto', helpGroup: 'WORKERS' }),
    nodes: wholeNumber({ summary: 'Hosts taking part; the world is M × N. Default: SLURM_NNODES, NNODES, or 1.', helpValue: 'M', min: 1, helpGroup: 'WORKERS' }),
    'node-rank': wholeNumber({ summary: "This host's 0-based place among them. Default: SLURM_NODEID, NODE_RANK, or 0.", helpValue: 'K', min: 0, helpGroup: 'WORKERS' }),
    'startup-stagger': Flags.string({ summary: 'Start worker k k × SECONDS after the first.', helpValue: 'SECONDS', default: '0', helpGroup: 'WORKERS' }),
    restart: Flags.string({ summary: 'Start a worker that exited non-zero again: never, always, or at most N times.', helpValue: 'never|always|N', default: 'never', helpGroup: 'POLICY' }),
    'restart-delay': Flags.string({ summary: 'The first restart delay; it doubles per crash up to 30 s, and resets after 30 s of healthy running.', helpValue: 'SECONDS', default: '1', helpGroup: 'POLICY' }),
    'max-restarts-in': Flags.string({ summary: 'A worker failing more than N times within SECONDS gives up, whatever --restart says.', helpValue: 'N/SECONDS', default: '5/60', helpGroup: 'POLICY' }),
    'success-exit': Flags.option({ summary: 'What a clean exit does to the other workers.', options: ['ignore', 'shutdown'] as const, default: 'ignore' as const, helpGroup: 'POLICY' })(),
    'failure-exit': Flags.option({ summary: "What a failure that will not be restarted does to the others; shutdown exits with the failing worker's status.", options: ['ignore', 'shutdown'] as const, default: 'ignore' as const, helpGroup: 'POLICY' })(),
    'stop-timeout': Flags.string({ summary: 'How long stopped workers may take before their process groups get SIGKILL.', helpValue: 'SECONDS', default: '10', helpGroup: 'POLICY' }),
    stdout: Flags.string({ summary: "Workers' stdout: whole lines (lines), [worker-R#G][stdout] prefixed lines (prefix), or a file per worker named by {rank} or {local_rank}.", helpValue: 'lines|prefix|FILE', default: 'lines', helpGroup: 'OUTPUT' }),
    events: Flags.string({ summary: 'Append one NDJSON line per lifecycle event (start, exit, restart, give-up, signal, shutdown, kill) to FILE.', helpValue: 'FILE', helpGroup: 'OUTPUT' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    // Everything after the first `--` is COMMAND, untouched by flag parsing.
    const cut = this.argv.indexOf('--');
    const own = cut < 0 ? this.argv : this.argv.slice(0, cut);
    const command = cut < 0 ? undefined : this.argv.slice(cut + 1);
    const { argv, flags } = await this.parse(RunCommand, own);
    if (argv.length > 0) throw new UsageError(`unexpected ${JSON.stringify(argv[0])}: COMMAND goes after --, as in op run -w N -- COMMAND ARGS…`);
    const { resolveRunOptions } = await import('../src/run/run-options.js');
    const options = resolveRunOptions(command, flags, process.env);
    const { runWorkers } = await import('../src/run/run-workers.js');
    process.exitCode = await runWorkers(options);
  }

}

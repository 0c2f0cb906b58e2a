import { format } from 'node:util';
import type { Context } from '../core/types.js';
import type { SideSource, SideView } from './side-inputs.js';
import { makeWorkdir } from './workdir.js';

/** What every record's context shares within one thread. */
export interface SharedContext {
  command: string;
  rank: number;
  world: number;
  workerId: number;
  config: unknown;
  /** Aborted on shutdown. */
  signal: AbortSignal;
  workdir: { root: string; keep: boolean } | undefined;
  /** Where `ctx.log` writes; stderr unless a worker routes it elsewhere. */
  log: (line: string) => void;
  /** With --side: the current version of the side inputs. */
  side?: SideSource | undefined;
}

const NO_SIDE: SideView = { value: {}, version: 0 };

/**
 * The `ctx` of one record attempt. A small class rather than an object literal so the
 * per-record cost is one allocation; shared fields are read through `shared`.
 */
export class RecordContext implements Context {
  signal: AbortSignal;
  /** Set once `workdir()` made a directory, so the runner can remove it after success. */
  madeWorkdir: string | undefined;
  /** Taken when the record starts: a new version is seen by the next record, never midway through this one. */
  private readonly sideView: SideView;

  constructor(
    private readonly shared: SharedContext,
    readonly index: number,
    readonly line: number,
    readonly source: string,
    readonly attempt: number,
    readonly id: unknown,
  ) {
    this.signal = shared.signal;
    this.madeWorkdir = undefined;
    this.sideView = shared.side?.current() ?? NO_SIDE;
  }

  get rank(): number {
    return this.shared.rank;
  }
  get world(): number {
    return this.shared.world;
  }
  get workerId(): number {
    return this.shared.workerId;
  }
  get config(): unknown {
    return this.shared.config;
  }
  get side(): Readonly<Record<string, unknown>> {
    return this.sideView.value;
  }
  get sideVersion(): number {
    return this.sideView.version;
  }

  log(...args: unknown[]): void {
    const where = this.line > 0 ? ` ${this.source}:${this.line}` : '';
    this.shared.log(`${this.shared.command}${where}: ${format(...args)}`);
  }

  async workdir(): Promise<string> {
    const options = this.shared.workdir;
    if (!options) throw new Error('ctx.workdir() needs --workdir DIR');
    this.madeWorkdir ??= await makeWorkdir(options.root, this.id ?? this.line, this.index);
    return this.madeWorkdir;
  }
}

/** The context `setup` and `teardown` receive: no record, attempt 0. */
export function lifecycleContext(shared: SharedContext): RecordContext {
  return new RecordContext(shared, -1, 0, '', 0, undefined);
}

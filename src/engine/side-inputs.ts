import { spawn, type ChildProcess } from 'node:child_process';
import { type FSWatcher, mkdtempSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OpError, UsageError } from '../core/errors.js';
import { parseSide, type SideShare, type SideSource, type SideView } from '../handler/side-inputs.js';
import { fsReason } from '../io/fs-reason.js';
import type { SideSpec } from './side-specs.js';

/**
 * 50 ms after the last change event: an editor's save, or a writer's several writes, come
 * as a burst of events; an atomic rename comes as one, and is whole whenever it is read.
 */
const SETTLE_MS = 50;
/** Versions kept for workers that read the share late; older ones are removed. */
const KEPT_VERSIONS = 4;

/**
 * The side inputs of a run, on the main thread: loaded before the first record, then
 * reloaded when a file changes (its directory is watched, so a rename over it counts) or
 * on a command's schedule. Each good version replaces the values at once, between records
 * (RecordContext takes the view when a record starts); a version that does not parse
 * keeps the old one, with one warning. With worker threads the versions are published
 * through a SideShare.
 */
export class SideInputs implements SideSource {
  private view: SideView;
  private readonly texts = new Map<string, string>();
  private readonly watchers: FSWatcher[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly children = new Set<ChildProcess>();
  private closed = false;
  readonly share: SideShare | undefined;

  private constructor(
    private readonly specs: SideSpec[],
    private readonly command: string,
    values: Record<string, unknown>,
    threads: boolean,
  ) {
    this.view = { value: values, version: 1 };
    if (threads) {
      this.share = { counter: new SharedArrayBuffer(4), dir: mkdtempSync(join(tmpdir(), 'opkit-side-')) };
      this.publish();
    }
  }

  /** Loads every side input once; one that is missing or does not parse is a usage error. */
  static async start(specs: SideSpec[], options: { command: string; threads: boolean; everyMs: number | undefined }): Promise<SideInputs> {
    const values: Record<string, unknown> = {};
    const texts = new Map<string, string>();
    for (const spec of specs) {
      let text: string;
      try {
        text = spec.file ? readSideFile(spec.file) : await runSideCommand(spec.command!, new Set());
        values[spec.name] = parseSide(text, spec.label);
      } catch (error) {
        throw new UsageError(`--side ${spec.name}: ${(error as Error).message}`);
      }
      texts.set(spec.name, text);
    }
    const inputs = new SideInputs(specs, options.command, values, options.threads);
    for (const [name, text] of texts) inputs.texts.set(name, text);
    inputs.watchFiles();
    if (options.everyMs !== undefined) for (const spec of specs) if (spec.command) inputs.schedule(spec, options.everyMs);
    return inputs;
  }

  current(): SideView {
    return this.view;
  }

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers) watcher.close();
    for (const timer of this.timers) clearTimeout(timer);
    for (const child of this.children) child.kill('SIGKILL');
    if (this.share) rmSync(this.share.dir, { recursive: true, force: true });
  }

  private watchFiles(): void {
    const byDir = new Map<string, SideSpec[]>();
    for (const spec of this.specs) if (spec.file) byDir.set(dirname(spec.file), [...(byDir.get(dirname(spec.file)) ?? []), spec]);
    for (const [dir, specs] of byDir) {
      const pending = new Map<SideSpec, NodeJS.Timeout>();
      const watcher = watch(dir, (_event, name) => {
        for (const spec of specs) {
          if (name !== null && name !== basename(spec.file!)) continue;
          clearTimeout(pending.get(spec));
          pending.set(spec, this.later(SETTLE_MS, () => this.reloadFile(spec)));
        }
      });
      watcher.on('error', (error) => this.warn(`side input directory ${dir}: ${fsReason(error)}; no longer watched`));
      watcher.unref();
      this.watchers.push(watcher);
    }
  }

  private reloadFile(spec: SideSpec): void {
    let text: string;
    try {
      text = readSideFile(spec.file!);
    } catch {
      // Between a delete and the rename that replaces it; the rename brings its own event.
      return;
    }
    this.apply(spec, text);
  }

  private schedule(spec: SideSpec, everyMs: number): void {
    this.later(everyMs, async () => {
      try {
        this.apply(spec, await runSideCommand(spec.command!, this.children));
      } catch (error) {
        if (!this.closed) this.warnOnce(spec, `side input ${spec.name}: ${(error as Error).message}; keeping version ${this.view.version}`);
      }
      if (!this.closed) this.schedule(spec, everyMs);
    });
  }

  private apply(spec: SideSpec, text: string): void {
    if (this.closed || this.texts.get(spec.name) === text) return;
    let value: unknown;
    try {
      value = parseSide(text, spec.label);
    } catch (error) {
      this.warnOnce(spec, `side input ${spec.name}: ${(error as Error).message}; keeping version ${this.view.version}`, text);
      return;
    }
    this.texts.set(spec.name, text);
    this.view = { value: { ...this.view.value, [spec.name]: value }, version: this.view.version + 1 };
    if (this.share) this.publish();
  }

  /** Writes the version where workers read it, then moves the counter they compare. */
  private publish(): void {
    const { dir, counter } = this.share!;
    const { version, value } = this.view;
    const path = join(dir, `${version}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(value));
    renameSync(`${path}.tmp`, path);
    Atomics.store(new Int32Array(counter), 0, version);
    rmSync(join(dir, `${version - KEPT_VERSIONS}.json`), { force: true });
  }

  private readonly warned = new Map<string, string>();

  /** One warning per bad version (a file rewritten in place sends several events). */
  private warnOnce(spec: SideSpec, message: string, text = message): void {
    if (this.warned.get(spec.name) === text) return;
    this.warned.set(spec.name, text);
    this.warn(message);
  }

  private warn(message: string): void {
    process.stderr.write(`${this.command}: warning: ${message}\n`);
  }

  private later(ms: number, run: () => unknown): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
    return timer;
  }
}

function readSideFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OpError(`${path}: ${fsReason(error)}`);
  }
}

/** CMD's whole stdout, when it exits 0; never through a shell. */
function runSideCommand(argv: string[], children: Set<ChildProcess>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const out: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      children.delete(child);
      reject(new OpError(`${argv[0]}: ${error.code === 'ENOENT' ? 'command not found' : fsReason(error)}`));
    });
    child.on('close', (status, signal) => {
      children.delete(child);
      if (status === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new OpError(`${argv[0]}: ${signal ? `killed by ${signal}` : `exited with status ${status}`}`));
    });
  });
}

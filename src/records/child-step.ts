import { OpError, TimeoutError, type Kind } from '../core/errors.js';
import { isInstance } from '../core/is-instance.js';
import { ExecChild, showArgv } from '../handler/exec-child.js';
import { childEnv } from '../handler/exec-env.js';
import { ReplyError } from '../handler/reply-error.js';
import type { LoadedHandler } from '../handler/load-handler.js';
import type { SharedContext } from '../handler/record-context.js';

export interface ChildStepSpec {
  argv: string[];
  protocol: 'lines' | 'json';
  /** Children started again after one failed, at most, in a run (--max-restarts). */
  maxRestarts: number;
  /** How long the child may take to exit once its input ended (--stop-timeout). */
  stopTimeout: number;
  /** --side: the folder of the published versions (OP_SIDE_DIR), `<version>.json` each. */
  sideDir?: string | undefined;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The line it was sent as, to send again to a child that replaces a stuck one. */
  line: Buffer;
}

/**
 * A step of a chain served by a child process (`then map -- python3 h.py`): one persistent
 * child per thread, fed one line per value and answering one line per value, in the same
 * two protocols as `op map -- CMD`. Unlike the processes executor, which hands a child the
 * input bytes as read, the values here come out of the step before, so each is serialised
 * for the child and each reply parsed: the step costs its own serialisation.
 */
export function loadChildStep(spec: ChildStepSpec, kind: Kind, label: string, shared: SharedContext): LoadedHandler {
  let child: ExecChild | undefined;
  let started = 0;
  let nextId = 0;
  let held = '';
  /** Values in flight: by id under --protocol json, in order under lines. */
  const waiting = new Map<number, Waiting>();
  const ordered: Waiting[] = [];
  const json = spec.protocol === 'json';
  const failAll = (error: unknown): void => {
    for (const one of [...ordered, ...waiting.values()]) one.reject(error);
    ordered.length = 0;
    waiting.clear();
  };
  const answer = (line: string): void => {
    if (!json) {
      const one = ordered.shift();
      if (!one) return void failAll(new OpError(`${label}: ${showArgv(spec.argv)} wrote a line when no value was in flight`));
      if (line === '') return void one.resolve(undefined);
      try {
        return void one.resolve(JSON.parse(line));
      } catch {
        return void one.reject(new OpError(`the reply is not JSON: ${line.slice(0, 80)}`));
      }
    }
    let reply: { id?: unknown; out?: unknown; error?: unknown; type?: unknown; at?: unknown };
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      return void failAll(new OpError(`${label}: the reply is not JSON: ${line.slice(0, 80)}`));
    }
    const one = typeof reply.id === 'number' ? waiting.get(reply.id) : undefined;
    if (!one) return void failAll(new OpError(`${label}: the reply names no value in flight: ${line.slice(0, 80)}`));
    waiting.delete(reply.id as number);
    if (reply.error === undefined) return void one.resolve(reply.out === null ? undefined : reply.out);
    const name = typeof reply.type === 'string' ? reply.type : 'Error';
    one.reject(new ReplyError(name, typeof reply.error === 'string' ? reply.error : JSON.stringify(reply.error), typeof reply.at === 'string' ? reply.at : undefined));
  };
  const start = (): ExecChild => {
    if (started > spec.maxRestarts) throw new OpError(`${label}: ${showArgv(spec.argv)} failed ${started} times (--max-restarts ${spec.maxRestarts})`);
    started++;
    held = '';
    const env = childEnv(process.env, { kind, rank: shared.rank, world: shared.world, workerId: shared.workerId, config: shared.config, sideDir: spec.sideDir });
    return new ExecChild(
      { argv: spec.argv, env, label, prefix: `[op ${label}] ` },
      {
        data: (from, chunk) => {
          if (from !== child) return;
          held += chunk.toString('utf8');
          let nl = held.indexOf('\n');
          while (nl >= 0) {
            answer(held.slice(0, nl).replace(/\r$/, ''));
            held = held.slice(nl + 1);
            nl = held.indexOf('\n');
          }
        },
        stdoutClosed: (closed) => closed.terminate(),
        ended: (ended, end) => {
          // A child replaced after a timeout: its values went to the new one.
          if (replaced.delete(ended)) return;
          if (child === ended) child = undefined;
          const why = end.spawnError ? end.spawnError.message : end.signal ? `killed by ${end.signal}` : `exit status ${end.code}`;
          const tail = ended.tail.text().trim();
          failAll(new OpError(`${showArgv(spec.argv)} ended (${why})${tail ? `: ${tail.split('\n').at(-1)}` : ''}`));
        },
      },
    );
  };
  /** Children ended on purpose after a timeout, whose end fails nothing. */
  const replaced = new Set<ExecChild>();
  /**
   * A value timed out (--timeout): the child is stuck on it, and every value behind it would
   * time out too. The child is ended (TERM, KILL later) and a fresh one gets the other
   * values it held, in order, without using an attempt; the timed-out value has failed.
   */
  const replace = (stuck: Waiting): void => {
    const old = child;
    if (!old) return;
    const index = ordered.indexOf(stuck);
    if (index >= 0) ordered.splice(index, 1);
    for (const [id, one] of waiting) if (one === stuck) waiting.delete(id);
    replaced.add(old);
    child = undefined;
    old.terminate();
    const rest = json ? [...waiting.values()] : ordered;
    if (rest.length === 0) return;
    try {
      child = start();
    } catch (error) {
      failAll(error);
      return;
    }
    for (const one of rest) child.write(one.line);
  };
  const stop = (): void => child?.kill();
  const fn = (value: unknown, ctx?: { signal: AbortSignal }): Promise<unknown> => {
    child ??= start();
    const id = nextId++;
    const text = JSON.stringify(value) ?? 'null';
    // With --side, the version this value is to see, as op map --protocol json -- CMD sends it.
    const side = shared.side && spec.sideDir !== undefined ? `"sideVersion":${shared.side.current().version},` : '';
    const line = Buffer.from(json ? `{"id":${id},${side}"${kind === 'batch' ? 'records' : 'record'}":${text}}\n` : `${text}\n`);
    let one: Waiting | undefined;
    const reply = new Promise<unknown>((resolve, reject) => {
      one = { resolve, reject, line };
      if (json) waiting.set(id, one);
      else ordered.push(one);
    });
    // With --timeout the call gets a signal that aborts with a TimeoutError (call-handler.ts).
    ctx?.signal?.addEventListener(
      'abort',
      () => {
        if (isInstance(ctx.signal.reason, TimeoutError) && (ordered.includes(one!) || waiting.get(id) === one)) replace(one!);
      },
      { once: true },
    );
    child.write(line);
    return reply;
  };
  return {
    fn,
    wantsContext: false,
    setup: async () => {
      // A child must never outlive op: its own process group does not get op's signals.
      process.once('exit', stop);
    },
    teardown: async () => {
      process.off('exit', stop);
      const last = child;
      if (!last) return;
      last.endInput();
      const timer = setTimeout(() => last.terminate(), spec.stopTimeout);
      await last.ended;
      clearTimeout(timer);
    },
  };
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.js';
import type { HandlerSpec } from '../handler/load-handler.js';

/** The journal's first line: what produced its entries, so another run's journal is not taken for this one's. */
export interface JournalHeader {
  /** JOURNAL_FORMAT: how entries and keys are written. */
  journal: number;
  op: string;
  command: string;
  /** handlerIdentity(): a hash of the handler's text, its module file's content, or its command. */
  handler: string;
  /** `line` (a hash of the raw line) or `id:FIELD`. */
  key: string;
}

/** 2: line keys hash eight bytes a round (format 1's keys differ, so none of its records would be found). */
export const JOURNAL_FORMAT = 2;

const NAMES: Record<string, string> = { op: 'the op version', command: 'the command', handler: 'the handler', key: 'the record key (--id)' };

export function journalHeader(command: string, handler: HandlerSpec, idField: string | undefined, steps?: Array<{ kind: string; handler: HandlerSpec }>): JournalHeader {
  // A chain's handler is its steps: every chain has the same builtin one, which would let any other chain resume.
  const hashed = steps ? createHash('sha256').update(steps.map((step) => `${step.kind}:${handlerIdentity(step.handler)}`).join('\n')).digest('hex').slice(0, 16) : handlerIdentity(handler);
  return { journal: JOURNAL_FORMAT, op: opVersion(), command, handler: hashed, key: idField === undefined ? 'line' : `id:${idField}` };
}

/** Refuses (exit 2) a journal written by another version, command, handler or key, unless forced. */
export function checkHeader(path: string, line: string, header: JournalHeader, force: boolean): void {
  let found: Record<string, unknown>;
  try {
    found = JSON.parse(line) as Record<string, unknown>;
  } catch {
    found = {};
  }
  if (typeof found.journal !== 'number') throw new UsageError(`--journal ${path} is not an op journal (its first line is no journal header)`);
  // Not even --force: another format's keys would match no record, and every one would run again.
  if (found.journal !== JOURNAL_FORMAT) throw new UsageError(`--journal ${path} is in journal format ${found.journal}, and this op reads format ${JOURNAL_FORMAT}; finish that run with the op that began it, or start a new journal`);
  if (force) return;
  const changed = (Object.keys(NAMES) as Array<keyof JournalHeader>).filter((field) => found[field] !== header[field]);
  if (changed.length === 0) return;
  const what = changed.map((field) => (field === 'handler' ? NAMES[field]! : `${NAMES[field]} (${String(found[field])} → ${header[field]})`));
  throw new UsageError(`--journal ${path} was written by another run: ${what.join(', ')} changed; use --force to resume from it anyway`);
}

/**
 * What the journal's `handler` field holds: a hash of the handler's text, of its module's
 * content, or, for a program after `--`, of its argv, its --protocol and the content of
 * every argument that names a file (`python3 score.py` is refused once score.py changes).
 */
export function handlerIdentity(spec: HandlerSpec): string {
  const hash = createHash('sha256');
  hash.update(spec.type + '\0');
  if (spec.type === 'module') hash.update(readFileSync(spec.path));
  else if (spec.type === 'prebuilt') hash.update(spec.identity);
  else if (spec.type === 'command') hashCommand(hash, spec.argv, spec.protocol);
  else hash.update(JSON.stringify(spec));
  return hash.digest('hex').slice(0, 16);
}

/** Files above this are identified by their size alone: reading a 2 GB model at every start costs seconds. */
const HASHED_FILE_BYTES = 16 << 20;

function hashCommand(hash: ReturnType<typeof createHash>, argv: string[], protocol: string): void {
  hash.update(JSON.stringify({ argv, protocol }));
  for (const arg of argv) {
    let size: number;
    try {
      const stat = statSync(arg);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue; // not a file here (a flag, a word, a program found on PATH)
    }
    hash.update(`\0${arg}\0${size}\0`);
    if (size <= HASHED_FILE_BYTES) hash.update(readFileSync(arg));
  }
}

let version: string | undefined;

/** opkit's version from its package.json: up from this module (dist/src/engine, or the bundle in dist). */
function opVersion(): string {
  version ??= findVersion();
  return version;
}

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 5; k++) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { version?: string };
      if (pkg.version !== undefined) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

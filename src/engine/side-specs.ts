import { UsageError } from '../core/errors.js';
import { splitWords } from '../io/split-words.js';

/** One `--side NAME=FILE` or `--side NAME=!CMD`. */
export interface SideSpec {
  name: string;
  /** A file, watched and reloaded. */
  file: string | undefined;
  /** argv words, run every `every` ms. */
  command: string[] | undefined;
  /** How messages name it: the FILE, or the command line. */
  label: string;
}

/** `--side` values → specs; `every` is required exactly when a command is given. */
export function parseSideSpecs(texts: readonly string[], every: number | undefined): SideSpec[] {
  const names = new Set<string>();
  const specs = texts.map((text): SideSpec => {
    const match = /^([A-Za-z_$][\w$]*)=(.+)$/s.exec(text);
    if (!match) throw new UsageError(`--side takes NAME=FILE or NAME=!CMD, got ${JSON.stringify(text)}`);
    const [, name = '', target = ''] = match;
    if (names.has(name)) throw new UsageError(`--side ${name} is given twice`);
    names.add(name);
    if (!target.startsWith('!')) return { name, file: target, command: undefined, label: target };
    const command = splitWords(target.slice(1), `--side ${name}`);
    if (command.length === 0) throw new UsageError(`--side ${name}: ! needs a command`);
    return { name, file: undefined, command, label: target.slice(1).trim() };
  });
  const commands = specs.some((spec) => spec.command);
  if (commands && every === undefined) throw new UsageError('--side NAME=!CMD needs --every DURATION');
  if (!commands && every !== undefined) throw new UsageError('--every needs a --side NAME=!CMD');
  return specs;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `--every 500ms`, `30s`, `5m`, `1h`; a bare number is milliseconds, as every MS flag. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms']! : Number.NaN;
  if (!(ms >= 1)) throw new UsageError(`--every takes a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  return ms;
}

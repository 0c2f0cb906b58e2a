import { availableParallelism } from 'node:os';
import { UsageError } from '../core/errors.js';
import { parseBytes } from '../core/parse-bytes.js';
import type { CaptureMode, EachSpec, StdinSource } from './each-spec.js';
import { parseHalt } from './halt-policy.js';
import { hasPlaceholder, parseTemplate } from './parse-template.js';

/** The flags of `op each` as commands/each.ts parses them. */
export interface EachFlags {
  in?: string[] | undefined;
  out?: string | undefined;
  'input-format': 'ndjson' | 'json';
  jobs?: string | undefined;
  shell: boolean;
  stdin?: string | undefined;
  capture: CaptureMode;
  'stdout-json': boolean;
  'max-output'?: string | undefined;
  'ok-codes'?: string | undefined;
  unordered: boolean;
  retries: number;
  'retry-delay': number;
  timeout?: number | undefined;
  'kill-after': number;
  halt?: string | undefined;
  'stop-timeout': number;
  errors?: string | undefined;
  'max-errors'?: number | undefined;
  id?: string | undefined;
  journal?: string | undefined;
  fsync?: 'always' | 'batch' | 'never' | undefined;
  'resume-failed'?: boolean | undefined;
  force?: boolean | undefined;
  workdir?: string | undefined;
  'keep-workdirs': boolean;
  stats: boolean;
  progress?: boolean | undefined;
  debug: boolean;
}

/** 1 MiB per stream: a page of logs or a JSON answer fits; a runaway job cannot fill memory. */
const DEFAULT_MAX_OUTPUT = 1024 * 1024;

/** Flags and CMD ARG… → what every job runs with. Every mistake is a usage error, before input is read. */
export function resolveEachSpec(command: string[] | undefined, flags: EachFlags): EachSpec {
  if (command === undefined || command.length === 0) throw new UsageError('missing command: op each [flags] -- CMD ARG…');
  if (flags.shell) {
    if (hasPlaceholder(command[0]!)) {
      throw new UsageError(`--shell: the script is passed to sh as written; put placeholders in the words after it and use "$1", "$2"… in the script`);
    }
    command.slice(1).forEach(parseTemplate);
  } else {
    const program = parseTemplate(command[0]!);
    if (program.fixed === '') throw new UsageError('the command is empty');
    command.slice(1).forEach(parseTemplate);
  }
  return {
    command,
    shell: flags.shell,
    jobs: resolveJobs(flags.jobs),
    stdin: resolveStdin(flags.stdin),
    capture: flags.capture,
    stdoutJson: flags['stdout-json'],
    maxOutput: flags['max-output'] === undefined ? DEFAULT_MAX_OUTPUT : parseSize(flags['max-output']),
    okCodes: resolveOkCodes(flags['ok-codes']),
    retries: flags.retries,
    timeout: flags.timeout,
    killAfter: flags['kill-after'],
    halt: flags.halt === undefined ? undefined : parseHalt(flags.halt),
    stopTimeout: flags['stop-timeout'],
    workdir: flags.workdir !== undefined,
    deadLetters: flags.errors !== undefined,
  };
}

/** `-j N|auto`; the default, like auto, is one job per core this process may use. */
export function resolveJobs(value: string | undefined): number {
  if (value === undefined || value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--jobs takes a positive whole number or auto, got ${JSON.stringify(value)}`);
  return n;
}

function resolveStdin(value: string | undefined): StdinSource {
  if (value === undefined || value === 'null') return { type: 'null' };
  if (value === 'record') return { type: 'record' };
  if (value.startsWith('field:') && value.length > 'field:'.length) {
    const name = value.slice('field:'.length);
    const path = name.split('.');
    if (!path.some((key) => key === '')) return { type: 'field', path, name };
  }
  throw new UsageError(`--stdin takes record or field:NAME, got ${JSON.stringify(value)}`);
}

function resolveOkCodes(value: string | undefined): Set<number> {
  if (value === undefined) return new Set([0]);
  const codes = value.split(',').map((text) => text.trim());
  if (codes.some((code) => !/^\d+$/.test(code) || Number(code) > 255)) throw new UsageError(`--ok-codes takes exit statuses 0-255 separated by commas, got ${JSON.stringify(value)}`);
  return new Set(codes.map(Number));
}

function parseSize(text: string): number {
  try {
    return parseBytes(text);
  } catch {
    throw new UsageError(`--max-output takes a size such as 65536, 64K or 1M, got ${JSON.stringify(text)}`);
  }
}

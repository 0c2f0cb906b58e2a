/** Where in the input something happened: `stdin:42`. */
export interface Place {
  source: string;
  line: number;
}

/** Base of every error opkit reports to the user; `code` picks the exit status. */
export class OpError extends Error {
  readonly exitCode: number;
  readonly place: Place | undefined;
  /** The offending input line, shown under the message. */
  readonly excerpt: string | undefined;

  constructor(message: string, options: { exitCode?: number; place?: Place; excerpt?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'OpError';
    this.exitCode = options.exitCode ?? 1;
    this.place = options.place;
    this.excerpt = options.excerpt;
  }
}

/** Bad flags, a handler that does not compile or load: exit 2, before any input is read. */
export class UsageError extends OpError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
    this.name = 'UsageError';
  }
}

/** A record failed at a stage (read, decode, parse, the handler, serialise). */
export class RecordError extends OpError {
  readonly stage: string;
  readonly attempts: number;

  constructor(cause: unknown, options: { place: Place; stage: string; attempts: number; excerpt?: string }) {
    super(describeCause(cause), { place: options.place, excerpt: options.excerpt, cause });
    this.name = 'RecordError';
    this.stage = options.stage;
    this.attempts = options.attempts;
  }
}

/** Bytes that cannot be a record: invalid UTF-8, a line past the length limit. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A handler call that ran past `--timeout`. */
export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The name and message of anything thrown, as one line. */
export function causeParts(cause: unknown): { name: string; message: string } {
  if (cause instanceof Error) return { name: cause.name, message: oneLine(cause.message) };
  return { name: 'Error', message: oneLine(safeString(cause)) };
}

export function describeCause(cause: unknown): string {
  const { name, message } = causeParts(cause);
  return message ? `${name}: ${message}` : name;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

import { isInstance } from './is-instance.js';
import { handlerFrame } from './handler-frame.js';

/** Where in the input something happened: `stdin:42`. */
export interface Place {
  source: string;
  line: number;
}

/** What a handler command does with each handler result. */
export type Kind = 'map' | 'filter' | 'slice' | 'batch';

/**
 * Where a record (or the run) failed. Failures before the handler ran are never retried:
 * the same bytes fail the same way.
 */
export type Stage = 'read' | 'decode' | 'parse' | 'serialize' | 'setup' | 'teardown' | Kind | 'each' | `${number}:${Kind}` | ReduceStage;

/** op reduce's own stages: reading event time, a late record, and the handler's parts. */
export type ReduceStage = 'reduce' | 'time' | 'late' | 'init' | 'step' | 'merge' | 'final';

export interface OpErrorOptions {
  exitCode?: number;
  place?: Place | undefined;
  excerpt?: string | undefined;
  stage?: Stage | undefined;
  /** Where in the handler's own file the cause was thrown (`handler.mjs:3:14`). */
  thrownAt?: string | undefined;
  /** Lines quoted under the message as they are (a child process's last stderr lines). */
  quote?: string[] | undefined;
  cause?: unknown;
}

/** Base of every error opkit reports to the user; `exitCode` picks the exit status. */
export class OpError extends Error {
  readonly exitCode: number;
  readonly place: Place | undefined;
  /** The offending input line, shown under the message. */
  readonly excerpt: string | undefined;
  readonly stage: Stage | undefined;
  readonly thrownAt: string | undefined;
  readonly quote: string[] | undefined;

  constructor(message: string, options: OpErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'OpError';
    this.exitCode = options.exitCode ?? 1;
    this.place = options.place;
    this.excerpt = options.excerpt;
    this.stage = options.stage;
    this.thrownAt = options.thrownAt;
    this.quote = options.quote;
  }
}

/** Bad flags, a handler that does not compile or load: exit 2, before any input is read. */
export class UsageError extends OpError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
    this.name = 'UsageError';
  }
}

/** A record failed at a stage (read, decode, parse, the handler, serialise) and stops the run. */
export class RecordError extends OpError {
  readonly attempts: number;

  constructor(cause: unknown, options: { place: Place; stage: Stage; attempts: number; excerpt?: string | undefined }) {
    super(describeCause(cause), { place: options.place, excerpt: options.excerpt, stage: options.stage, thrownAt: handlerFrame(cause), cause });
    this.name = 'RecordError';
    this.attempts = options.attempts;
  }
}

/** Bytes that cannot be a record: invalid UTF-8 (`decode`), a line past the length limit (`read`). */
export class InputError extends OpError {
  constructor(message: string, stage: 'read' | 'decode' | 'parse') {
    super(message, { stage });
    this.name = 'InputError';
  }
}

/** A handler call that ran past `--timeout`. */
export class TimeoutError extends OpError {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * A handler call given up on: it can never settle (the event loop has nothing left that
 * could settle it), or a stop's --stop-timeout ran out first.
 */
export class UnsettledError extends OpError {
  constructor(message = 'handler never settled') {
    super(message);
    this.name = 'UnsettledError';
  }
}

/** A handler result that cannot become output (BigInt, a cycle, not an iterable); never retried. */
export class OutputError extends OpError {
  constructor(message: string) {
    super(message, { stage: 'serialize' });
    this.name = 'TypeError';
  }
}

/** An error as plain data, so it crosses a thread boundary with its name, stage and place. */
export interface ErrorData {
  name: string;
  message: string;
  exitCode: number;
  stage: Stage | undefined;
  attempts: number | undefined;
  place: Place | undefined;
  excerpt: string | undefined;
  thrownAt: string | undefined;
}

export function toErrorData(error: unknown): ErrorData {
  if (isInstance(error, OpError)) {
    const attempts = error instanceof RecordError ? error.attempts : undefined;
    return { name: error.name, message: error.message, exitCode: error.exitCode, stage: error.stage, attempts, place: error.place, excerpt: error.excerpt, thrownAt: error.thrownAt };
  }
  const { name, message } = causeParts(error);
  return { name, message, exitCode: 1, stage: undefined, attempts: undefined, place: undefined, excerpt: undefined, thrownAt: handlerFrame(error) };
}

/** The error again on this side of the boundary: same name, message, stage, place and exit status. */
export function fromErrorData(data: ErrorData): OpError {
  const error = new OpError(data.message, { exitCode: data.exitCode, place: data.place, excerpt: data.excerpt, stage: data.stage, thrownAt: data.thrownAt });
  error.name = data.name;
  return error;
}

/** The name and message of anything thrown, as one line; describing a failure never fails. */
export function causeParts(cause: unknown): { name: string; message: string } {
  try {
    if (cause instanceof Error) return { name: String(cause.name), message: oneLine(String(cause.message)) };
    return { name: 'Error', message: oneLine(safeString(cause)) };
  } catch {
    return { name: 'Error', message: `a thrown ${typeName(cause)} that cannot be described` };
  }
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

/** `typeof`, which never runs user code (a revoked Proxy throws on nearly everything else). */
function typeName(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

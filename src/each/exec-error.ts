/** What a dead letter tells about a job besides its message. */
export interface ExecDetails {
  argv: string[];
  exit: number | null;
  signal: string | null;
  stderr: string;
}

/**
 * A job that ended outside --ok-codes, by a signal, or not at all. `details` go into the
 * dead letter beside the message; `retryable` false skips --retries (a command that is not
 * there, or a job ended because op is stopping, will not do better a second time).
 */
export class ExecError extends Error {
  constructor(
    message: string,
    readonly details: ExecDetails,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

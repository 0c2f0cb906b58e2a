/** A failure the child reported for one record (`{"id":N,"error":"…"}`): retried, then dead-lettered. */
export class ReplyError extends Error {
  /** Where the child raised it (`score.py:12 in handle`), when it said. */
  readonly at: string | undefined;
  readonly details: { at?: string } | undefined;

  constructor(name: string, message: string, at: string | undefined) {
    super(message);
    this.name = name;
    this.at = at;
    this.details = at === undefined ? undefined : { at };
  }
}

import type { Sink } from '../io/open-sink.js';

export type RunEvent = 'start' | 'exit' | 'restart' | 'give-up' | 'signal' | 'shutdown' | 'kill';

/**
 * `--events FILE`: one NDJSON line per lifecycle event of a worker, with its number (the
 * global rank), generation (restarts so far) and the time, then the event's own fields:
 * `{"time":"…","event":"exit","worker":2,"generation":1,"code":3,"signal":null,"ms":1004}`.
 */
export class EventLog {
  constructor(private readonly sink: Sink | undefined) {}

  write(event: RunEvent, worker: number, generation: number, fields: Record<string, unknown> = {}): void {
    if (this.sink === undefined) return;
    // A few lines per worker run: no need to wait for a drain between them.
    void this.sink.write(JSON.stringify({ time: new Date().toISOString(), event, worker, generation, ...fields }) + '\n');
  }

  async end(): Promise<void> {
    await this.sink?.end();
  }
}

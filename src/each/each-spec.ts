import type { HaltPolicy } from './halt-policy.js';

/** Where a job's stdin comes from. */
export type StdinSource = { type: 'null' } | { type: 'record' } | { type: 'field'; path: string[]; name: string };

export type CaptureMode = 'both' | 'stdout' | 'stderr' | 'none';

/** Everything one job needs to know, resolved from the flags. */
export interface EachSpec {
  /** CMD ARG… as given; with `shell`, the first word is the script. */
  command: string[];
  shell: boolean;
  jobs: number;
  stdin: StdinSource;
  capture: CaptureMode;
  stdoutJson: boolean;
  maxOutput: number;
  okCodes: ReadonlySet<number>;
  retries: number;
  timeout: number | undefined;
  killAfter: number;
  halt: HaltPolicy | undefined;
  stopTimeout: number;
  /** --workdir: each job runs in its record's workdir. */
  workdir: boolean;
  /** --errors: failures have somewhere to go, so an interrupted job is one too. */
  deadLetters: boolean;
}

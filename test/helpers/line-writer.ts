import { spawn } from 'node:child_process';

/**
 * python3's arguments for a child that writes `lines` lines `{"k":N}` with one write(2)
 * each (unbuffered), `pauseMs` apart every `every` lines.
 */
export function lineWriterArgs(lines: number, every = lines, pauseMs = 0): string[] {
  const program = `import sys, time\nfor k in range(${lines}):\n    sys.stdout.write('{"k":%d}\\n' % k)\n    if (k + 1) % ${every} == 0: time.sleep(${pauseMs / 1000})\n`;
  return ['-u', '-c', program];
}

/** That child, writing to a pipe Node makes. */
export function lineWriter(lines: number, every = lines, pauseMs = 0) {
  return spawn('python3', lineWriterArgs(lines, every, pauseMs), { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** What the child writes. */
export function writtenLines(lines: number): string {
  return Array.from({ length: lines }, (_, k) => `{"k":${k}}\n`).join('');
}

#!/usr/bin/env node
// What the check for numbers beyond the double range (io/out-of-range.ts) costs: the input
// cut into the main thread's 64 KiB chunks of whole lines, each decoded as op decodes it,
// then the byte scan and the look at the lines it flags, timed alone. Prints
// `{"scanMs":…,"decodeMs":…,"flagged":…,"bad":…}`: run by bench/run.mjs (the range-scan case).
//
//   node bench/range-scan.mjs FILE [RUNS]
import { readFileSync } from 'node:fs';
import { markOutOfRange } from '../dist/src/io/out-of-range.js';
import { findSuspects } from '../dist/src/io/scan-numbers.js';

const [file, runsText = '5'] = process.argv.slice(2);
const data = readFileSync(file);
const CHUNK = 64 * 1024;
const chunks = [];
for (let start = 0; start < data.length; ) {
  let end = Math.min(data.length, start + CHUNK);
  if (end < data.length) end = data.lastIndexOf(10, end - 1) + 1;
  chunks.push(data.subarray(start, end));
  start = end;
}
const decoded = chunks.map((chunk) => {
  const lines = chunk.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
});

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const scans = [];
const decodes = [];
let flagged = 0;
let bad = 0;
for (let run = 0; run < Number(runsText); run++) {
  let t = performance.now();
  for (const chunk of chunks) chunk.toString('utf8').split('\n');
  decodes.push(performance.now() - t);
  bad = 0;
  t = performance.now();
  for (let k = 0; k < chunks.length; k++) bad += markOutOfRange(chunks[k], decoded[k], undefined)?.size ?? 0;
  scans.push(performance.now() - t);
}
// Blocks the byte scan flags (each sends its lines to the exact check), counted outside the timing.
for (const chunk of chunks) flagged += findSuspects(chunk).length;
console.log(JSON.stringify({ scanMs: median(scans), decodeMs: median(decodes), flagged, bad }));

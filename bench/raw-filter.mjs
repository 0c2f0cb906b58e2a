#!/usr/bin/env node
// Baseline "limit" for a Node NDJSON filter, the same shape as ../shared/bench/raw-map.mjs:
// chunked stdin, split on \n, JSON.parse, keep the original line when fn(record) is truthy,
// one joined write per chunk honoring backpressure. No error handling, no features.
// usage: node raw-filter.mjs 'r => expr' < in > out
const fn = new Function('return (' + (process.argv[2] ?? 'r => true') + ')')();
const out = process.stdout;
let rest = '';
const wait = () => new Promise(res => out.once('drain', res));
for await (const chunk of process.stdin.setEncoding('utf8')) {
  const text = rest + chunk;
  const lines = text.split('\n');
  rest = lines.pop();
  let buf = '';
  for (const line of lines) {
    if (!line) continue;
    if (fn(JSON.parse(line))) buf += line + '\n';
  }
  if (!out.write(buf)) await wait();
}
if (rest && fn(JSON.parse(rest))) out.write(rest + '\n');

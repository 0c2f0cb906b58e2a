#!/usr/bin/env node
// What Redis itself costs to carry records through a queue in opkit's wire format, with no
// opkit at all: one client, the fewest commands the format allows, pages of 1,000.
//   push     one script per page: an XADD `d=<line>` per record into :in;
//   consume  XREADGROUP a page from :in, then one script that XACKs the page's ids and
//            XADDs each line into :out (no delivery counts, no pending check);
//   pull     XREADGROUP a page from :out, then one XACK of its ids.
// Reports wall time and Redis's own CPU (INFO CPU) per record for each phase. Redis runs
// commands on one thread, so its CPU over all three phases bounds the records/s any number
// of consumers can reach through one Redis end to end.
//
//   node bench/queue-floor.mjs                 1,000,000 records
//   node bench/queue-floor.mjs --records 200000
//
// Needs Redis at 127.0.0.1:6379 (OPKIT_BENCH_REDIS to change it).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { ensureRecords, redisCpuOfInfo } from './bench-files.mjs';

const SERVER = process.env.OPKIT_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' } } });
const RECORDS = Number(values.records);
const PAGE = 1000;
const NAME = `bench-floor-${process.pid}`;
const IN = `opkit:{${NAME}}:in`;
const OUT = `opkit:{${NAME}}:out`;
const GROUP = 'opkit';

const lines = readFileSync(await ensureRecords(RECORDS), 'utf8').split('\n');
if (lines.at(-1) === '') lines.pop();
const client = createClient({ url: SERVER });
await client.connect();
const PUSH = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'd', ARGV[i]) end return #ARGV";
const MOVE = "redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2, 1 + tonumber(ARGV[#ARGV]))) for i = 2 + tonumber(ARGV[#ARGV]), #ARGV - 1 do redis.call('XADD', KEYS[2], '*', 'd', ARGV[i]) end return 1";
const pushSha = await client.sendCommand(['SCRIPT', 'LOAD', PUSH]);
const moveSha = await client.sendCommand(['SCRIPT', 'LOAD', MOVE]);
await client.sendCommand(['XGROUP', 'CREATE', IN, GROUP, '0', 'MKSTREAM']);
await client.sendCommand(['XGROUP', 'CREATE', OUT, GROUP, '0', 'MKSTREAM']);

const rows = [];
try {
  rows.push(
    await phase('push', async () => {
      const sent = [];
      for (let at = 0; at < lines.length; at += PAGE) {
        sent.push(client.sendCommand(['EVALSHA', pushSha, '1', IN, ...lines.slice(at, at + PAGE)]));
        if (sent.length === 16) await Promise.all(sent.splice(0));
      }
      await Promise.all(sent);
    }),
  );
  rows.push(
    await phase('consume', async () => {
      for (;;) {
        const page = await readPage(IN);
        if (page.length === 0) break;
        const ids = page.map((entry) => entry[0]);
        const data = page.map((entry) => entry[1][1]);
        await client.sendCommand(['EVALSHA', moveSha, '2', IN, OUT, GROUP, ...ids, ...data, String(ids.length)]);
      }
    }),
  );
  rows.push(
    await phase('pull', async () => {
      let count = 0;
      for (;;) {
        const page = await readPage(OUT);
        if (page.length === 0) break;
        count += page.length;
        await client.sendCommand(['XACK', OUT, GROUP, ...page.map((entry) => entry[0])]);
      }
      if (count !== lines.length) throw new Error(`pulled ${count} of ${lines.length}`);
    }),
  );
} finally {
  await client.sendCommand(['DEL', IN, OUT]);
  await client.quit();
}

const total = rows.reduce((sum, row) => ({ seconds: sum.seconds + row.seconds, cpu: sum.cpu + row.cpu }), { seconds: 0, cpu: 0 });
console.log(`queue floor ${NAME}: ${lines.length.toLocaleString('en')} records, pages of ${PAGE}, one client, no opkit`);
for (const row of [...rows, { name: 'all', ...total }]) {
  console.log(
    `${row.name.padEnd(8)} ${row.seconds.toFixed(2)} s  ${Math.round(lines.length / row.seconds).toLocaleString('en')} records/s  Redis CPU ${((row.cpu * 1e6) / lines.length).toFixed(2)} µs/record`,
  );
}
console.log(`Redis alone allows at most ${Math.round(lines.length / total.cpu).toLocaleString('en')} records/s end to end (its CPU over the three phases)`);

async function phase(name, body) {
  const cpu0 = await redisCpu();
  const started = performance.now();
  await body();
  const seconds = (performance.now() - started) / 1000;
  return { name, seconds, cpu: (await redisCpu()) - cpu0 };
}

/** The next page for this client from the group: `[[id, ['d', line]], …]`, empty at the end. */
async function readPage(key) {
  const reply = await client.sendCommand(['XREADGROUP', 'GROUP', GROUP, 'floor', 'COUNT', String(PAGE), 'STREAMS', key, '>']);
  return reply === null ? [] : reply[0][1];
}

async function redisCpu() {
  return redisCpuOfInfo(await client.sendCommand(['INFO', 'CPU']));
}

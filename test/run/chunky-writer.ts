// A worker for the whole-line tests (run as a script, not a suite): writes about BYTES of
// JSON lines of random lengths to stdout, cut into random-sized writes (1 byte to 64 KiB)
// that start and end anywhere within lines, then prints the line count on stderr.
const bytes = Number(process.argv[2] ?? 5_000_000);
const rank = Number(process.env.OP_RANK ?? 0);
let seed = 0x9e3779b9 ^ (rank + 1);
/** xorshift32: the same sizes on every run, different per rank. */
const random = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};

const parts: string[] = [];
let size = 0;
let count = 0;
while (size < bytes) {
  const line = JSON.stringify({ rank, i: count, pad: 'x'.repeat(Math.floor(random() * 2000)) }) + '\n';
  parts.push(line);
  size += line.length;
  count += 1;
}
const all = Buffer.from(parts.join(''));

async function main(): Promise<void> {
  for (let at = 0; at < all.length; ) {
    const end = Math.min(all.length, at + 1 + Math.floor(random() ** 3 * 65_536));
    if (!process.stdout.write(all.subarray(at, end))) await new Promise((resolve) => process.stdout.once('drain', resolve));
    at = end;
  }
  process.stderr.write(`${count}\n`);
}

void main();

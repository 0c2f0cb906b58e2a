/**
 * Natural order for file names: runs of digits compare as numbers, so `out.2` sorts before
 * `out.10` (a shell's glob puts `out.10` first). Leading zeros do not count (`a01` and `a1`
 * are tied, then broken by plain code-unit order, so the order is total and stable).
 */
export function compareNatural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ie = endOfDigits(a, i);
      const je = endOfDigits(b, j);
      const byNumber = compareDigits(a, skipZeros(a, i, ie), ie, b, skipZeros(b, j, je), je);
      if (byNumber !== 0) return byNumber;
      i = ie;
      j = je;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  const byRest = a.length - i - (b.length - j);
  if (byRest !== 0) return byRest;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function endOfDigits(s: string, k: number): number {
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}

/** Leading zeros, keeping one digit so `0` stays a number. */
function skipZeros(s: string, k: number, end: number): number {
  while (k < end - 1 && s.charCodeAt(k) === 48) k++;
  return k;
}

/** Digit strings without leading zeros: the longer is the larger, else the first digit that differs. */
function compareDigits(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  if (ae - as !== be - bs) return ae - as - (be - bs);
  for (let k = 0; k < ae - as; k++) {
    const d = a.charCodeAt(as + k) - b.charCodeAt(bs + k);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The known name closest to a mistyped one, as git and npm suggest (`did you mean`):
 * a name it is the start of (`--worker` for `--workers`), else the nearest by edit
 * distance counting a swap of two neighbours as one edit (`mpa` for `map`), if near enough
 * to be a typo: at most 1 edit for names of up to 4 letters, 2 for longer ones.
 */
export function suggestName(word: string, names: readonly string[]): string | undefined {
  if (word.length >= 3) {
    const extended = names.filter((name) => name.startsWith(word));
    if (extended.length === 1) return extended[0];
  }
  const limit = word.replace(/^-+/, '').length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of names) {
    const distance = editDistance(word, name);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      row.push(value);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

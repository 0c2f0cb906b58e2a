/**
 * The output of one read, per share: slices of the read buffer (no copy while routing),
 * joined into one buffer per share when taken, so each share costs one write per read.
 */
export class ShareBuffers {
  private pieces: Buffer[][];
  private sizes: number[];

  constructor(readonly count: number) {
    this.pieces = Array.from({ length: count }, () => []);
    this.sizes = new Array<number>(count).fill(0);
  }

  add(share: number, piece: Buffer): void {
    (this.pieces[share] as Buffer[]).push(piece);
    this.sizes[share] = (this.sizes[share] as number) + piece.length;
  }

  /** One buffer per share (undefined when it got nothing), and a fresh start. */
  take(): Array<Buffer | undefined> {
    const taken = this.pieces.map((list, share) => (list.length === 0 ? undefined : list.length === 1 ? list[0] : Buffer.concat(list, this.sizes[share])));
    for (let share = 0; share < this.count; share++) {
      if ((this.pieces[share] as Buffer[]).length) this.pieces[share] = [];
      this.sizes[share] = 0;
    }
    return taken;
  }
}

/**
 * Rank → the share it is written to (-1: not written). One rank is written by `op shard`,
 * all of them by `--split`.
 */
export function shareOfRank(world: number, ranks: readonly number[]): Int32Array {
  const shareOf = new Int32Array(world).fill(-1);
  for (const [share, rank] of ranks.entries()) shareOf[rank] = share;
  return shareOf;
}

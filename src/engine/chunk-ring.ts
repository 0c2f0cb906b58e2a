/**
 * One reusable region of memory that input is read into: shared memory (`sab`) when
 * workers decode chunks in place, else plain memory.
 */
export interface Slot {
  sab: SharedArrayBuffer | undefined;
  buf: Buffer;
}

/**
 * A bounded set of shared buffers, made as they are first needed. A chunk holds its slot
 * until its result is written (and any retry of its records is done), so the ring size is
 * the bound on chunks in flight and on the memory input can take: about 2 per worker
 * (DESIGN.md section 7).
 */
export class ChunkRing {
  /**
   * The ring for `executor`: a slot per chunk it works on, one being filled, its spares
   * (a chunk finished ahead of an earlier one holds its slot until that one is written),
   * and `more` for results that wait elsewhere (the journal's fsync).
   */
  static for(executor: { capacity: number; spareSlots?: number | undefined; slotBytes: number; sharedSlots?: boolean | undefined }, more = 0): ChunkRing {
    return new ChunkRing(executor.capacity + 1 + (executor.spareSlots ?? 0) + more, executor.slotBytes, executor.sharedSlots ?? false);
  }

  private readonly free: Slot[] = [];
  private readonly waiters: Array<(slot: Slot) => void> = [];
  private made = 0;

  constructor(
    private readonly count: number,
    readonly slotBytes: number,
    private readonly shared = false,
  ) {}

  acquire(): Promise<Slot> | Slot {
    const slot = this.free.pop();
    if (slot) return slot;
    if (this.made < this.count) {
      this.made++;
      return newSlot(this.slotBytes, this.shared);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(slot: Slot): void {
    // A slot grown for one long line goes back to the usual size, so the memory is returned.
    const back = slot.buf.length === this.slotBytes ? slot : newSlot(this.slotBytes, this.shared);
    const waiter = this.waiters.shift();
    if (waiter) waiter(back);
    else this.free.push(back);
  }
}

export function newSlot(bytes: number, shared: boolean): Slot {
  if (!shared) return { sab: undefined, buf: Buffer.allocUnsafeSlow(bytes) };
  const sab = new SharedArrayBuffer(bytes);
  return { sab, buf: Buffer.from(sab) };
}

/** A slot twice as large, of the same kind, holding the first `used` bytes of `slot` (for a line longer than a slot). */
export function growSlot(slot: Slot, used: number): Slot {
  const bigger = newSlot(slot.buf.length * 2, slot.sab !== undefined);
  slot.buf.copy(bigger.buf, 0, 0, used);
  return bigger;
}

/** `slot`, or a larger empty one of the same kind when it holds fewer than `bytes` (the small one goes back to the heap). */
export function fitSlot(slot: Slot, bytes: number): Slot {
  let size = slot.buf.length;
  if (size >= bytes) return slot;
  while (size < bytes) size *= 2;
  return newSlot(size, slot.sab !== undefined);
}

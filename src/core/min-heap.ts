/**
 * A binary heap ordered by `before`; the k-way merge keeps one entry per input in it, so
 * each record costs O(log k) comparisons.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let k = items.push(item) - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.before(item, items[parent] as T)) break;
      items[k] = items[parent] as T;
      k = parent;
    }
    items[k] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftTop();
    }
    return top;
  }

  /** Restores the order after the top entry changed in place (the merge's common step). */
  siftTop(): void {
    const items = this.items;
    const n = items.length;
    if (n === 0) return;
    const item = items[0] as T;
    let k = 0;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1] as T, items[child] as T)) child++;
      if (!this.before(items[child] as T, item)) break;
      items[k] = items[child] as T;
      k = child;
    }
    items[k] = item;
  }
}

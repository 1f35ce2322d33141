// Expiry buckets for the in-memory stores: which keys expire when, so expired entries are dropped in
// time order without scanning the store. Keys are grouped by the tick their expiry falls in (expiry
// rounded UP to the tick, so an entry lives at most one tick longer, never shorter); a min-heap holds
// the ticks that have keys. Dropping due entries costs O(1) when nothing is due, otherwise O(due keys).
// Time comes from the caller: the stores run on an injectable clock, never on the wall clock alone.

export class ExpiryIndex {
  private readonly byTick = new Map<number, string[]>();
  /** Min-heap of the ticks present in byTick. */
  private readonly heap: number[] = [];

  constructor(readonly tickMs: number = 1000) {}

  /** The tick an expiry (epoch ms) belongs to: the entry counts as live while now < tick * tickMs. */
  tickOf(expiresAtMs: number): number {
    return Math.ceil(expiresAtMs / this.tickMs);
  }

  /** Whether an entry stored with `tick` is still live at `nowMs`. */
  live(tick: number, nowMs: number): boolean {
    return nowMs < tick * this.tickMs;
  }

  add(key: string, tick: number): void {
    const keys = this.byTick.get(tick);
    if (keys !== undefined) {
      keys.push(key);
      return;
    }
    this.byTick.set(tick, [key]);
    this.push(tick);
  }

  /**
   * Calls `drop(key, tick)` for every key of every tick that is wholly in the past at `nowMs`. The
   * caller checks the tick against the one it holds for the key (a key re-added later is not dropped).
   */
  due(nowMs: number, drop: (key: string, tick: number) => void): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0] * this.tickMs <= nowMs) {
      const tick = this.pop();
      const keys = this.byTick.get(tick);
      this.byTick.delete(tick);
      if (keys !== undefined) for (let i = 0; i < keys.length; i++) drop(keys[i], tick);
    }
  }

  clear(): void {
    this.byTick.clear();
    this.heap.length = 0;
  }

  private push(v: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= v) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = v;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r] < h[l] ? r : l;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

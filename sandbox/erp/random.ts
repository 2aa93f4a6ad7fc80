/**
 * A small seeded PRNG (mulberry32): the demo ERP must generate the same stock moves, prices and shipments
 * for the same seed, so a demo or a test can be replayed.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3 …) over the state space so their sequences differ from the first draw.
    this.state = (Math.imul(seed >>> 0 ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `count` distinct items (all of them when there are fewer), in draw order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = items.slice();
    const out: T[] = [];
    while (out.length < count && pool.length > 0) {
      out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]);
    }
    return out;
  }
}

/**
 * Deterministic randomness for the seeded store. Every seeded entity draws from its own stream keyed by
 * (seed, kind, index), so order 73 412 is the same whether or not orders 0..73 411 were ever generated:
 * that is what lets the sandbox serve 100 000 orders without holding them.
 */

/** 32-bit mix of a few integers (murmur3 finaliser style). */
export function hash32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A small, fast PRNG (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  static for(seed: number, kind: number, index: number): Rng {
    return new Rng(hash32(seed, kind, index));
  }

  /** [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Stream kinds, so two entity types never share a stream. */
export const KIND = {
  catalog: 1,
  customer: 2,
  order: 3,
  orderTime: 4,
  placed: 5,
} as const;

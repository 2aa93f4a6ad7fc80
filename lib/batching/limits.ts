/**
 * Batch sizes learnt from the store. Magento 2.4.3+ refuses a list longer than its configured input limit
 * with `Maximum items of type "%type" is %max`; once seen, every later batch for that store uses the
 * smaller size, so the refusal costs one call per store and process, not one per batch.
 */
export class LimitMemory {
  private readonly learnt = new Map<string, number>();

  /** The size to use for `operation`: the configured one, or a smaller one the store told us. */
  get(operation: string, configured: number): number {
    const known = this.learnt.get(operation);
    const base = Math.max(1, Math.floor(configured) || 1);
    return known !== undefined ? Math.min(base, known) : base;
  }

  /** Remembers that the store accepts at most `max` items for `operation`. */
  lower(operation: string, max: number): void {
    if (!Number.isFinite(max) || max < 1) return;
    const known = this.learnt.get(operation);
    if (known === undefined || max < known) this.learnt.set(operation, Math.floor(max));
  }

  learntFor(operation: string): number | undefined {
    return this.learnt.get(operation);
  }
}

const byOwner = new WeakMap<object, LimitMemory>();

/**
 * One memory per store: every node pushing to the same store (the same client object) shares what was learnt.
 */
export function limitMemoryFor(owner: object): LimitMemory {
  let memory = byOwner.get(owner);
  if (!memory) {
    memory = new LimitMemory();
    byOwner.set(owner, memory);
  }
  return memory;
}

/** A slice of a LimitMemory bound to one operation and configured size: what deliverInBatches needs. */
export interface BatchLimit {
  size(): number;
  lower(max: number): void;
}

export function batchLimit(memory: LimitMemory, operation: string, configured: () => number): BatchLimit {
  return {
    size: () => memory.get(operation, configured()),
    lower: (max: number) => memory.lower(operation, max),
  };
}

/** A fixed size that never changes (tests, or an operation without an input limit). */
export function fixedLimit(size: number): BatchLimit {
  return { size: () => size, lower: () => undefined };
}

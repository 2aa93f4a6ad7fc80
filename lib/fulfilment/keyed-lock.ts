/**
 * Runs tasks one at a time per key (an order number), different keys in parallel. Two deliveries for one
 * order read "left to ship" and then ship: run side by side they would both spend the same quantity.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(task, task);
    const tail = mine.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    try {
      return await mine;
    } finally {
      // Forget the key once nothing queued behind us, so the map does not grow with every order ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  get size(): number {
    return this.tails.size;
  }
}

/**
 * Expired entries go away a bounded batch at a time on a timer, so a big backlog never holds up the
 * store (an SQLite file serves one statement at a time: gate checks wait behind a delete) and the flow
 * keeps running while it drains.
 */
export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
export const PURGE_BATCH = 500;

export class PurgeTimer {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly purge: (limit: number) => Promise<number>, intervalMs: number | undefined) {
    const every = intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref();
    }
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // A full batch means more are waiting: continue on the next turn of the event loop, not in one go.
      let removed = await this.purge(PURGE_BATCH);
      while (removed === PURGE_BATCH && this.timer) {
        await new Promise((resolve) => setImmediate(resolve));
        removed = await this.purge(PURGE_BATCH);
      }
    } catch {
      // A failed purge is retried on the next tick; expired entries are ignored by reads meanwhile.
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

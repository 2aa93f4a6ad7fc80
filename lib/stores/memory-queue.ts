/** Retry queue in process memory: for tests and throwaway flows (lost on restart). */
import { byFirstFailure, checkEntry, checkMaxLive, isLiveState, listStates, listWindow } from './queue-rules';
import { checkStoreName } from './json';
import type { QueueCounts, QueueEntry, QueueEntryState, QueueListOptions, RetryQueueStore, StoreOptions } from './types';

export class MemoryRetryQueueStore implements RetryQueueStore {
  readonly kind = 'memory' as const;
  readonly name: string;
  private readonly entries = new Map<string, QueueEntry>();

  constructor(options: Pick<StoreOptions, 'name'>) {
    this.name = checkStoreName(options.name);
  }

  async put(entry: QueueEntry, maxLive?: number): Promise<boolean> {
    checkEntry(entry);
    checkMaxLive(maxLive);
    if (maxLive !== undefined && !this.entries.has(entry.id) && isLiveState(entry.state)) {
      let live = 0;
      for (const e of this.entries.values()) if (isLiveState(e.state)) live++;
      if (live >= maxLive) return false;
    }
    this.entries.set(entry.id, structuredClone(entry));
    return true;
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    const entry = this.entries.get(id);
    return entry && structuredClone(entry);
  }

  async claimDue(now: number, limit: number, owner: string, leaseMs: number): Promise<QueueEntry[]> {
    const due = [...this.entries.values()]
      .filter((e) => e.state === 'pending' && e.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
      .slice(0, limit);
    for (const e of due) {
      e.state = 'in-flight';
      e.owner = owner;
      e.leaseUntil = now + leaseMs;
      e.updatedAt = now;
    }
    return due.map((e) => structuredClone(e));
  }

  async nextDueAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const e of this.entries.values()) if (e.state === 'pending' && (next === undefined || e.nextAttemptAt < next)) next = e.nextAttemptAt;
    return next;
  }

  async list(options?: QueueListOptions): Promise<QueueEntry[]> {
    const states = listStates(options);
    const { limit, offset } = listWindow(options);
    return [...this.entries.values()].filter((e) => states.includes(e.state)).sort(byFirstFailure).slice(offset, offset + limit).map((e) => structuredClone(e));
  }

  async remove(id: string): Promise<boolean> {
    return this.entries.delete(id);
  }

  async removeByState(state: QueueEntryState): Promise<number> {
    let n = 0;
    for (const [id, e] of this.entries) if (e.state === state && this.entries.delete(id)) n++;
    return n;
  }

  async counts(): Promise<QueueCounts> {
    const c: QueueCounts = { pending: 0, inFlight: 0, dead: 0, finished: 0 };
    for (const e of this.entries.values()) {
      if (e.state === 'in-flight') c.inFlight++;
      else c[e.state]++;
    }
    return c;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

/**
 * Messages handed to the next node(s) and not yet taken over by them: the back-pressure of a node that
 * emits many messages (read-orders pages) and the hand-over record of one that must know when the flow
 * took a message (webhook-in's journal).
 *
 * A message is taken over when every destination it was sent to completed it: a message wired to two
 * nodes is cloned for the second, under the same id, so both must finish it. The adapter feeds
 * completions in from the runtime (Node-RED's `onComplete` hook); this module knows nothing of Node-RED.
 *
 * Waiting is bounded: a destination that never completes its messages (a node that does not call
 * done(), a dropped message) must not stall the producer forever. After `timeoutMs` without any message
 * taken over, the wait ends and the messages still out are forgotten (reported as abandoned), so the
 * next wait starts from zero instead of timing out again on the same stale messages.
 */
export interface HandoverWait {
  /** True when the wait ended by the timeout rather than by messages being taken over. */
  timedOut: boolean;
  /** Messages forgotten because the timeout passed (0 unless timedOut). */
  abandoned: number;
  /** True when the wait ended because the signal aborted. */
  aborted: boolean;
}

interface Pending<T> {
  waiting: Set<string>;
  value: T;
}

export class Handover<T = undefined> {
  private readonly pending = new Map<string, Pending<T>>();
  private readonly listeners = new Set<() => void>();

  /** Messages sent and not yet taken over by all their destinations. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Expects message `id` to be completed by each of `destinations`. Returns false (and tracks nothing)
   * when there is no destination: nobody would ever complete it.
   */
  track(id: string, destinations: Iterable<string>, value: T): boolean {
    const waiting = new Set(destinations);
    if (waiting.size === 0) return false;
    this.pending.set(id, { waiting, value });
    return true;
  }

  /**
   * Node `by` completed message `id`. Returns the tracked value once the last destination did, else
   * undefined (unknown message, a node it was not sent to, or destinations still working on it).
   */
  complete(id: string, by: string): { value: T } | undefined {
    const entry = this.pending.get(id);
    if (!entry || !entry.waiting.delete(by)) return undefined;
    if (entry.waiting.size > 0) return undefined;
    this.pending.delete(id);
    this.notify();
    return { value: entry.value };
  }

  /**
   * Node `by` failed message `id` (done(err)): stops tracking it and returns its value when `by` was one of
   * its destinations still working on it, else undefined (a node further down failing the same message).
   */
  fail(id: string, by: string): { value: T } | undefined {
    const entry = this.pending.get(id);
    if (!entry || !entry.waiting.has(by)) return undefined;
    this.pending.delete(id);
    this.notify();
    return { value: entry.value };
  }

  /** Stops tracking `id` (its send failed, or it no longer matters). */
  forget(id: string): T | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    this.notify();
    return entry.value;
  }

  /** Forgets every message; returns how many there were. */
  clear(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.notify();
    return n;
  }

  /**
   * Resolves once at most `limit` messages are in flight. The timeout restarts whenever a message is
   * taken over, so a slow but moving downstream is waited for; only one that stalls for `timeoutMs`
   * makes the wait give up (forgetting what is still out).
   */
  drain(limit: number, timeoutMs: number, signal?: AbortSignal): Promise<HandoverWait> {
    const max = Math.max(0, limit);
    if (this.pending.size <= max) return Promise.resolve({ timedOut: false, abandoned: 0, aborted: false });
    if (signal?.aborted) return Promise.resolve({ timedOut: false, abandoned: 0, aborted: true });
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (result: HandoverWait): void => {
        if (timer) clearTimeout(timer);
        this.listeners.delete(onChange);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const arm = (): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          // Unhooked first: clearing notifies, and this wait must end as timed out, not as drained.
          this.listeners.delete(onChange);
          finish({ timedOut: true, abandoned: this.clear(), aborted: false });
        }, timeoutMs);
      };
      const onChange = (): void => {
        if (this.pending.size <= max) finish({ timedOut: false, abandoned: 0, aborted: false });
        else arm();
      };
      const onAbort = (): void => finish({ timedOut: false, abandoned: 0, aborted: true });
      this.listeners.add(onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

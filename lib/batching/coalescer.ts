/**
 * Latest-wins buffer keyed by what the target stores once (SKU + source, SKU + store view…).
 *
 * ERPs send the same SKU many times in a short while (every sale, every receipt); only the last value
 * matters to the store. Entries wait at most `windowMs` from the first one in an empty buffer (a fixed
 * window, so a steady stream cannot postpone delivery forever), or until `maxEntries` distinct keys
 * are waiting, or until `flush()`. When `canFlush` says no at the end of a window (the previous round is
 * still being sent), the entries keep waiting and coalescing until `flushIfDue()`: they could not be sent
 * any sooner, and what arrives meanwhile joins them instead of making one more round.
 */
export interface Coalesced<T> {
  key: string;
  value: T;
  /** ERP timestamp (ms since epoch) when the update carried one. */
  timestamp?: number;
  /** Earlier values for the same key that this one replaced, oldest first. */
  superseded: T[];
}

export type AddResult<T> =
  | { accepted: true; replaced?: T }
  | { accepted: false; reason: 'older'; current: Coalesced<T> };

export interface CoalescerOptions<T> {
  windowMs: number;
  /** Flush early when this many distinct keys wait (bounds memory and latency). */
  maxEntries?: number;
  onFlush: (entries: Coalesced<T>[]) => void;
  /** Asked when a window ends; false keeps the entries waiting (due) until `flushIfDue()`. */
  canFlush?: () => boolean;
}

export class Coalescer<T> {
  private buffer = new Map<string, Coalesced<T>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The window ended while `canFlush` said no. */
  private due = false;
  private closed = false;

  constructor(private readonly options: CoalescerOptions<T>) {}

  get size(): number {
    return this.buffer.size;
  }

  /**
   * Adds a value. With timestamps on both sides the newer ERP timestamp wins (an older one is refused,
   * not applied); otherwise the later arrival wins.
   */
  add(key: string, value: T, timestamp?: number): AddResult<T> {
    if (this.closed) throw new Error('coalescer closed');
    const current = this.buffer.get(key);
    if (current) {
      if (timestamp !== undefined && current.timestamp !== undefined && timestamp < current.timestamp) {
        return { accepted: false, reason: 'older', current };
      }
      current.superseded.push(current.value);
      const replaced = current.value;
      current.value = value;
      if (timestamp !== undefined) current.timestamp = timestamp;
      return { accepted: true, replaced };
    }
    this.buffer.set(key, { key, value, timestamp, superseded: [] });
    if (this.options.maxEntries !== undefined && this.buffer.size >= this.options.maxEntries) {
      this.flush();
    } else if (this.timer === undefined && !this.due && this.options.windowMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.options.canFlush && !this.options.canFlush()) this.due = true;
        else this.flush();
      }, this.options.windowMs);
      // A waiting window must not keep a process alive on its own (close() flushes anyway).
      this.timer.unref?.();
    }
    return { accepted: true };
  }

  /** True when a window ended while `canFlush` said no. */
  get isDue(): boolean {
    return this.due;
  }

  /** Flushes when a window has ended while `canFlush` said no (call it once it would say yes). */
  flushIfDue(): void {
    if (this.due) this.flush();
  }

  /** Hands every waiting entry to onFlush now (no-op when empty). */
  flush(): void {
    this.due = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.size === 0) return;
    const entries = Array.from(this.buffer.values());
    this.buffer = new Map();
    this.options.onFlush(entries);
  }

  /** Flushes what waits and refuses further values. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}

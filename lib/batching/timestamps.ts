/**
 * Drops updates older than what was already applied.
 *
 * A full stock push from the ERP that started before a sale and arrives after the sale's own update would
 * put back the pre-sale quantity (overselling). Each update may carry the ERP's timestamp; the guard keeps
 * the newest timestamp applied per key in a durable store and the newest one in flight in memory, and
 * refuses anything older than either.
 */

/** The small durable map the guard needs (a KeyValueStore from lib/stores fits). */
export interface TimestampBackend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
}

const MAGENTO_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

/**
 * Reads an ERP timestamp: epoch milliseconds (or seconds, when too small to be ms), a Date, an ISO 8601
 * string, or Magento's `YYYY-MM-DD HH:MM:SS` (UTC). `undefined` when absent, NaN when unreadable.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return NaN;
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return parseTimestamp(Number(s));
    const m = MAGENTO_DATE.exec(s);
    if (m) {
      const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
      const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
      const d = new Date(t);
      // Reject 2024-02-31 and friends instead of letting Date roll them over.
      if (d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) return NaN;
      return t;
    }
    const t = Date.parse(s);
    return Number.isNaN(t) ? NaN : t;
  }
  return NaN;
}

export interface StaleVerdict {
  stale: boolean;
  /** The newer timestamp that makes the update stale (ms). */
  newer?: number;
  /** Where the newer timestamp is: already applied, or in flight right now. */
  source?: 'applied' | 'in-flight';
}

export class TimestampGuard {
  private readonly inFlight = new Map<string, { timestamp: number; holders: number }>();
  /**
   * Per key: the tail of its durable raises. The store answers asynchronously (SQLite from the thread
   * pool, Redis over the network): two settles of one key must not both read before either writes, or
   * the older timestamp could be written last and let a stale update through later.
   */
  private readonly raising = new Map<string, Promise<void>>();

  /**
   * @param backend durable store of applied timestamps (undefined = in-flight ordering only)
   * @param prefix namespaces the keys (e.g. `stock:` or `price:` plus the store name)
   */
  constructor(private readonly backend: TimestampBackend | undefined, private readonly prefix = '') {}

  async lastApplied(key: string): Promise<number | undefined> {
    if (!this.backend) return undefined;
    const raw = await this.backend.get(this.prefix + key);
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : (raw as { timestamp?: unknown } | null)?.timestamp;
    return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
  }

  async check(key: string, timestamp: number | undefined): Promise<StaleVerdict> {
    if (timestamp === undefined) return { stale: false };
    const flying = this.inFlight.get(key);
    if (flying && timestamp < flying.timestamp) return { stale: true, newer: flying.timestamp, source: 'in-flight' };
    const applied = await this.lastApplied(key);
    if (applied !== undefined && timestamp < applied) return { stale: true, newer: applied, source: 'applied' };
    return { stale: false };
  }

  /** Marks an accepted update as on its way, so an older one arriving meanwhile is refused. */
  reserve(key: string, timestamp: number | undefined): void {
    if (timestamp === undefined) return;
    const flying = this.inFlight.get(key);
    if (!flying) this.inFlight.set(key, { timestamp, holders: 1 });
    else {
      flying.holders++;
      if (timestamp > flying.timestamp) flying.timestamp = timestamp;
    }
  }

  /** Ends a reservation; when the update was applied, raises the durable timestamp (never lowers it). */
  async settle(key: string, timestamp: number | undefined, applied: boolean): Promise<void> {
    if (timestamp === undefined) return;
    const flying = this.inFlight.get(key);
    if (flying && --flying.holders <= 0) this.inFlight.delete(key);
    if (!applied || !this.backend) return;
    const backend = this.backend;
    const run = (this.raising.get(key) ?? Promise.resolve()).then(async () => {
      const current = await this.lastApplied(key);
      if (current === undefined || timestamp > current) await backend.set(this.prefix + key, timestamp);
    });
    const tail = run.then(() => undefined, () => undefined);
    this.raising.set(key, tail);
    void tail.then(() => { if (this.raising.get(key) === tail) this.raising.delete(key); });
    return run;
  }
}

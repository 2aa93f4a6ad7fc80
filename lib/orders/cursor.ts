/**
 * The read-orders cursor: the (`updated_at`, `entity_id`) of the last order handed on. Orders are read
 * in that order, so the pair is a keyset position that stays valid while orders change (page numbers do
 * not: an order updated mid-run moves to the end and shifts every page after it).
 */
import { ValidationError } from '../errors';
import { parseTimestamp } from '../batching/timestamps';

export interface OrderCursor {
  /** Magento's `updated_at` of the last order handed on, UTC `YYYY-MM-DD HH:MM:SS`. */
  updatedAt: string;
  /** Its `entity_id`: orders sharing one `updated_at` second are ordered by it. */
  entityId: number;
}

/** What is kept in the durable store: the cursor and when it was written. */
export interface StoredCursor extends OrderCursor {
  savedAt: string;
  /**
   * When a read that re-read the overlap before this cursor started, at least the overlap after `savedAt`
   * (this process's clock, ISO). An order committed late shows within the overlap of its `updated_at`, and
   * every order up to the cursor was written before `savedAt`: that read saw them all, so later polls start
   * at the cursor itself until it moves.
   */
  overlapReadAt?: string;
}

/** The small durable map the cursor needs (a KeyValueStore from lib/stores fits). */
export interface CursorBackend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Epoch milliseconds as Magento writes dates: UTC `YYYY-MM-DD HH:MM:SS` (seconds truncated). */
export function toMagentoDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * Reads a point in time given by a user or a message (Magento date, ISO 8601, Date, epoch ms or s) as a
 * Magento date; a ValidationError names `field` when it cannot.
 */
export function magentoDateOf(value: unknown, field: string): string {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw new ValidationError(field, 'is empty; give a date such as "2024-05-01 00:00:00" (UTC) or an ISO 8601 time');
  if (Number.isNaN(ms)) throw new ValidationError(field, `"${String(value)}" is not a date; give "YYYY-MM-DD HH:MM:SS" (UTC), an ISO 8601 time or epoch milliseconds`);
  return toMagentoDate(ms);
}

/** Orders `a` before `b` the way the reader sorts: `updated_at`, then `entity_id`. */
export function compareCursor(a: OrderCursor, b: OrderCursor): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  return a.entityId - b.entityId;
}

/** The keyset position of one Magento order; a ValidationError when it lacks either key. */
export function cursorOf(order: { updated_at?: unknown; created_at?: unknown; entity_id?: unknown }): OrderCursor {
  const entityId = Number(order?.entity_id);
  if (!Number.isInteger(entityId) || entityId < 1) throw new ValidationError('entity_id', `Magento answered an order without a usable entity_id (${JSON.stringify(order?.entity_id)})`);
  // A freshly placed order may carry no updated_at on some installs: it was last changed when created.
  const raw = order.updated_at ?? order.created_at;
  return { updatedAt: magentoDateOf(raw, `orders[${entityId}].updated_at`), entityId };
}

/** The cursor moved back by `seconds` to the start of that second, so orders sharing a timestamp are read again. */
export function withOverlap(cursor: OrderCursor, seconds: number): OrderCursor {
  if (!(seconds > 0)) return cursor;
  const ms = parseTimestamp(cursor.updatedAt) as number;
  return { updatedAt: toMagentoDate(ms - seconds * 1000), entityId: 0 };
}

function isCursor(v: unknown): v is StoredCursor {
  if (!v || typeof v !== 'object') return false;
  const c = v as Record<string, unknown>;
  return typeof c.updatedAt === 'string' && Number.isInteger(c.entityId);
}

/** The cursor of one read-orders node against one store, kept in a durable key/value store. */
export class CursorStore {
  constructor(private readonly backend: CursorBackend, readonly key: string) {}

  /** The key a node's cursor lives under: one per store and node, so two nodes never share a position. */
  static keyFor(storeName: string, nodeId: string): string {
    return `read-orders/${storeName}/${nodeId}`;
  }

  async load(): Promise<StoredCursor | undefined> {
    const value = await this.backend.get(this.key);
    if (value === undefined || value === null) return undefined;
    const parsed = typeof value === 'string' ? safeJson(value) : value;
    if (!isCursor(parsed)) {
      throw new ValidationError('cursor', `the stored cursor under "${this.key}" is unreadable (${JSON.stringify(value).slice(0, 120)}); reset it with msg.reset`);
    }
    const cursor: StoredCursor = { updatedAt: parsed.updatedAt, entityId: parsed.entityId, savedAt: String(parsed.savedAt ?? '') };
    if (typeof parsed.overlapReadAt === 'string') cursor.overlapReadAt = parsed.overlapReadAt;
    return cursor;
  }

  async save(cursor: OrderCursor): Promise<StoredCursor> {
    const stored: StoredCursor = { updatedAt: cursor.updatedAt, entityId: cursor.entityId, savedAt: new Date().toISOString() };
    await this.backend.set(this.key, stored);
    return stored;
  }

  /** Records that the overlap before `cursor` (as loaded, unchanged since) was re-read by a read started at `at`. */
  async markOverlapRead(cursor: StoredCursor, at: Date): Promise<StoredCursor> {
    const stored: StoredCursor = { updatedAt: cursor.updatedAt, entityId: cursor.entityId, savedAt: cursor.savedAt, overlapReadAt: at.toISOString() };
    await this.backend.set(this.key, stored);
    return stored;
  }

  async reset(): Promise<void> {
    await this.backend.delete(this.key);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The audit log: one row per call the pack makes to Magento or the ERP (time, store, operation, entity,
 * idempotency key, status, duration, error), in `<userDir>/magento-erp/audit.sqlite`. A CallRecord holds
 * no header, token or body by contract; the error text and route are scrubbed again on the way in, and
 * nothing but ids describes an entity (no names, emails or addresses).
 *
 * Writes are buffered and committed a batch at a time (every `flushMs` or `batchSize` rows), so auditing
 * a burst of calls costs one disk sync, not one per call.
 */
import type Database from 'better-sqlite3';
import path from 'path';
import { ValidationError } from '../errors';
import type { CallRecord, MagentoClient } from '../magento/types';
import { redactText } from '../redact';
import { acquireDatabase, releaseDatabase } from '../stores/sqlite-db';

export interface AuditOptions {
  /** Directory of audit.sqlite (the pack's state directory: `<userDir>/magento-erp`). */
  directory: string;
  /** Rows older than this are purged (default 30 days; 0 = keep forever). */
  retentionDays?: number;
  flushMs?: number;
  batchSize?: number;
}

export interface AuditQuery {
  /** ISO time or epoch ms, inclusive. */
  since?: string | number;
  until?: string | number;
  store?: string;
  operation?: string;
  entityType?: string;
  entityId?: string;
  idempotencyKey?: string;
  /** Only failed calls (an error or a status ≥ 400). */
  failedOnly?: boolean;
  /** Newest first; default 100, at most 5000. */
  limit?: number;
}

export interface AuditRow extends CallRecord {
  id: number;
}

const MAX_QUERY = 5000;
const MAX_ERROR_LENGTH = 1000;

function epoch(value: string | number | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const t = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new ValidationError(field, `must be an ISO date-time or epoch milliseconds (got ${JSON.stringify(value)})`);
  return t;
}

export class AuditLog {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly writeBatch: (rows: CallRecord[]) => void;
  private buffer: CallRecord[] = [];
  private flushTimer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private closed = false;

  constructor(options: AuditOptions) {
    if (!options.directory) throw new ValidationError('directory', 'the audit log needs a directory');
    this.file = path.resolve(options.directory, 'audit.sqlite');
    this.db = acquireDatabase(this.file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      time INTEGER NOT NULL,
      store TEXT NOT NULL,
      method TEXT,
      route TEXT,
      operation TEXT,
      entity_type TEXT,
      entity_id TEXT,
      idempotency_key TEXT,
      status INTEGER,
      duration_ms INTEGER,
      error TEXT,
      error_class TEXT
    );
    CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
    CREATE INDEX IF NOT EXISTS audit_entity ON audit (entity_type, entity_id);
    CREATE INDEX IF NOT EXISTS audit_key ON audit (idempotency_key) WHERE idempotency_key IS NOT NULL;`);
    this.insert = this.db.prepare(`INSERT INTO audit (time, store, method, route, operation, entity_type, entity_id, idempotency_key, status, duration_ms, error, error_class)
      VALUES (@time, @store, @method, @route, @operation, @entityType, @entityId, @idempotencyKey, @status, @durationMs, @error, @errorClass)`);
    this.writeBatch = this.db.transaction((rows: CallRecord[]) => {
      for (const r of rows) {
        this.insert.run({
          time: Date.parse(r.time) || Date.now(),
          store: r.store || 'unknown',
          method: r.method ?? null,
          route: r.route ? redactText(r.route.split('?')[0]) : null,
          operation: r.operation ?? null,
          entityType: r.entityType ?? null,
          entityId: r.entityId === undefined ? null : String(r.entityId),
          idempotencyKey: r.idempotencyKey ?? null,
          status: r.status ?? null,
          durationMs: Number.isFinite(r.durationMs) ? Math.round(r.durationMs) : null,
          error: r.error ? redactText(r.error).slice(0, MAX_ERROR_LENGTH) : null,
          errorClass: r.errorClass ?? null,
        });
      }
    });
    this.flushMs = options.flushMs ?? 250;
    this.batchSize = options.batchSize ?? 200;
    this.retentionMs = (options.retentionDays ?? 30) * 86_400_000;
    if (this.retentionMs > 0) {
      this.purgeTimer = setInterval(() => { try { this.purge(); } catch { /* next time */ } }, 3600_000);
      this.purgeTimer.unref();
    }
  }

  /** Records one call (buffered; see `flush`). Never throws: auditing must not break the call it describes. */
  record(call: CallRecord): void {
    if (this.closed) return;
    this.buffer.push(call);
    if (this.buffer.length >= this.batchSize) this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.flushMs);
      this.flushTimer.unref();
    }
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0 || this.closed) return;
    const rows = this.buffer;
    this.buffer = [];
    try {
      this.writeBatch(rows);
    } catch {
      // Disk full or locked: keep the rows for the next flush rather than lose them, within reason.
      if (this.buffer.length < 10 * this.batchSize) this.buffer = rows.concat(this.buffer);
    }
  }

  query(q: AuditQuery = {}): AuditRow[] {
    this.flush();
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    const since = epoch(q.since, 'since');
    const until = epoch(q.until, 'until');
    if (since !== undefined) { where.push('time >= @since'); args.since = since; }
    if (until !== undefined) { where.push('time <= @until'); args.until = until; }
    for (const [field, column] of [['store', 'store'], ['operation', 'operation'], ['entityType', 'entity_type'], ['entityId', 'entity_id'], ['idempotencyKey', 'idempotency_key']] as const) {
      const v = q[field];
      if (v !== undefined && v !== '') { where.push(`${column} = @${field}`); args[field] = String(v); }
    }
    if (q.failedOnly) where.push('(error IS NOT NULL OR status >= 400)');
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY) throw new ValidationError('limit', `must be an integer from 1 to ${MAX_QUERY}`);
    args.limit = limit;
    const rows = this.db.prepare(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT @limit`).all(args) as Array<Record<string, unknown>>;
    return rows.map((r) => {
      const out: AuditRow = { id: r.id as number, time: new Date(r.time as number).toISOString(), store: r.store as string, method: r.method as AuditRow['method'], route: r.route as string, durationMs: r.duration_ms as number };
      if (r.operation !== null) out.operation = r.operation as string;
      if (r.entity_type !== null) out.entityType = r.entity_type as string;
      if (r.entity_id !== null) out.entityId = r.entity_id as string;
      if (r.idempotency_key !== null) out.idempotencyKey = r.idempotency_key as string;
      if (r.status !== null) out.status = r.status as number;
      if (r.error !== null) out.error = r.error as string;
      if (r.error_class !== null) out.errorClass = r.error_class as string;
      return out;
    });
  }

  /** Deletes rows older than the retention (or `olderThanMs`); resolves how many. Batched, so it never blocks long. */
  purge(olderThanMs: number = this.retentionMs): number {
    if (this.closed || olderThanMs <= 0) return 0;
    const cutoff = Date.now() - olderThanMs;
    const stmt = this.db.prepare('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < ? LIMIT 5000)');
    let total = 0;
    for (let n = stmt.run(cutoff).changes; n > 0; n = stmt.run(cutoff).changes) total += n;
    return total;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    releaseDatabase(this.file);
  }
}

interface Shared { log: AuditLog; refs: number }
const shared = new Map<string, Shared>();

/** The process-wide audit log of a directory, shared by every store-config (reference counted: call `release`). */
export function openAuditLog(options: AuditOptions): { log: AuditLog; release: () => void } {
  const key = path.resolve(options.directory);
  let s = shared.get(key);
  if (!s) {
    s = { log: new AuditLog(options), refs: 0 };
    shared.set(key, s);
  }
  s.refs++;
  let released = false;
  const entry = s;
  return {
    log: s.log,
    release: () => {
      if (released) return;
      released = true;
      entry.refs--;
      if (entry.refs <= 0) {
        shared.delete(key);
        entry.log.close();
      }
    },
  };
}

/**
 * Records every call `client` makes into the audit log of `directory` (normally
 * `stateDirectory(RED.settings.userDir)` from lib/stores/config.ts). Returns the function that stops
 * it: call it from the store-config node's `close` handler.
 */
export function attachAuditLog(client: Pick<MagentoClient, 'onCall'>, directory: string, retentionDays?: number): () => void {
  const { log, release } = openAuditLog({ directory, retentionDays });
  const unsubscribe = client.onCall((record) => log.record(record));
  return () => {
    unsubscribe();
    release();
  };
}

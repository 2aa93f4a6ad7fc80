/**
 * The audit log: one row per call the pack makes to Magento or the ERP (time, store, operation, entity,
 * idempotency key, status, duration, error), in `<userDir>/magento-erp/audit.sqlite`. A CallRecord holds
 * no header, token or body by contract; the error text and route are scrubbed again on the way in, and
 * nothing but ids describes an entity (no names, emails or addresses).
 *
 * Writes are buffered and committed a batch at a time (every `flushMs` or `batchSize` rows), in one
 * transaction, so auditing a burst of calls costs one disk sync, not one per call, and the call being
 * audited never waits for the disk.
 */
import path from 'path';
import { ValidationError } from '../errors';
import type { CallRecord, MagentoClient } from '../magento/types';
import { redactText } from '../redact';
import { acquireDatabase, releaseDatabase, type SqliteDatabase, type SqlValue } from '../stores/sqlite-db';

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

const SCHEMA = `CREATE TABLE IF NOT EXISTS audit (
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
  CREATE INDEX IF NOT EXISTS audit_key ON audit (idempotency_key) WHERE idempotency_key IS NOT NULL;`;

const COLUMNS = 12;

/**
 * Rows per INSERT: a batch goes in a few multi-row statements (64 rows, then 32, 16, ... for the rest),
 * since every statement is a round trip to SQLite's thread (~17 us of the event loop's time in the sqlite3
 * binding alone) and a flush of 200 rows would otherwise make 200. 64 × 12 parameters stays under SQLite's
 * oldest limit of 999 per statement; the handful of statement texts stay prepared.
 */
const ROWS_PER_INSERT = 64;

const inserts = new Map<number, string>();
function insertOf(rows: number): string {
  let sql = inserts.get(rows);
  if (!sql) {
    const one = `(${Array.from({ length: COLUMNS }, () => '?').join(', ')})`;
    sql = `INSERT INTO audit (time, store, method, route, operation, entity_type, entity_id, idempotency_key, status, duration_ms, error, error_class)
  VALUES ${Array.from({ length: rows }, () => one).join(', ')}`;
    inserts.set(rows, sql);
  }
  return sql;
}

/** The row as stored: scrubbed again here, whatever the caller promised. */
function columns(r: CallRecord): SqlValue[] {
  return [
    Date.parse(r.time) || Date.now(),
    r.store || 'unknown',
    r.method ?? null,
    r.route ? redactText(r.route.split('?')[0]) : null,
    r.operation ?? null,
    r.entityType ?? null,
    r.entityId === undefined ? null : String(r.entityId),
    r.idempotencyKey ?? null,
    r.status ?? null,
    Number.isFinite(r.durationMs) ? Math.round(r.durationMs) : null,
    r.error ? redactText(r.error).slice(0, MAX_ERROR_LENGTH) : null,
    r.errorClass ?? null,
  ];
}

export class AuditLog {
  readonly file: string;
  private readonly db: SqliteDatabase;
  private readonly ready: Promise<void>;
  private buffer: CallRecord[] = [];
  /** The last batch write queued: a query waits for it, so it sees every call recorded before it. */
  private writing: Promise<void> = Promise.resolve();
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
    this.ready = this.db.exec(SCHEMA);
    this.ready.catch(() => undefined);
    this.flushMs = options.flushMs ?? 250;
    this.batchSize = options.batchSize ?? 200;
    this.retentionMs = (options.retentionDays ?? 30) * 86_400_000;
    if (this.retentionMs > 0) {
      this.purgeTimer = setInterval(() => { this.purge().catch(() => undefined); }, 3600_000);
      this.purgeTimer.unref();
    }
  }

  /** Records one call (buffered; see `flush`). Never throws: auditing must not break the call it describes. */
  record(call: CallRecord): void {
    if (this.closed) return;
    this.buffer.push(call);
    if (this.buffer.length >= this.batchSize) void this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), this.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Writes the buffered rows in one transaction; resolves once they (and any batch before them) are on disk. Never rejects. */
  flush(): Promise<void> {
    if (this.closed) return this.writing;
    return this.writeBuffer();
  }

  private writeBuffer(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0) return this.writing;
    const rows = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(async () => {
      try {
        await this.ready;
        await this.db.transaction(async (tx) => {
          for (let at = 0; at < rows.length;) {
            let n = ROWS_PER_INSERT;
            while (n > rows.length - at) n >>= 1;
            await tx.run(insertOf(n), rows.slice(at, at + n).flatMap(columns));
            at += n;
          }
        });
      } catch {
        // Disk full or locked: keep the rows for the next flush rather than lose them, within reason.
        if (this.buffer.length < 10 * this.batchSize) this.buffer = rows.concat(this.buffer);
      }
    });
    return this.writing;
  }

  /** Newest first. Writes what is buffered first, so a call just made is in the answer. */
  async query(q: AuditQuery = {}): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: SqlValue[] = [];
    const since = epoch(q.since, 'since');
    const until = epoch(q.until, 'until');
    if (since !== undefined) { where.push('time >= ?'); args.push(since); }
    if (until !== undefined) { where.push('time <= ?'); args.push(until); }
    for (const [field, column] of [['store', 'store'], ['operation', 'operation'], ['entityType', 'entity_type'], ['entityId', 'entity_id'], ['idempotencyKey', 'idempotency_key']] as const) {
      const v = q[field];
      if (v !== undefined && v !== '') { where.push(`${column} = ?`); args.push(String(v)); }
    }
    if (q.failedOnly) where.push('(error IS NOT NULL OR status >= 400)');
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY) throw new ValidationError('limit', `must be an integer from 1 to ${MAX_QUERY}`);
    args.push(limit);
    await this.flush();
    await this.ready;
    const rows = await this.db.all<Record<string, unknown>>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`, args);
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

  /**
   * Deletes rows older than the retention (or `olderThanMs`); resolves how many. A batch per statement,
   * so calls being audited meanwhile are written between the batches.
   */
  async purge(olderThanMs: number = this.retentionMs): Promise<number> {
    if (this.closed || olderThanMs <= 0) return 0;
    await this.ready;
    const cutoff = Date.now() - olderThanMs;
    let total = 0;
    for (;;) {
      if (this.closed) return total;
      const n = (await this.db.run('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < ? LIMIT 5000)', [cutoff])).changes;
      if (n === 0) return total;
      total += n;
    }
  }

  /** Writes what is buffered, then closes the file. Calls recorded after this are not kept. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.writeBuffer();
    await releaseDatabase(this.file);
  }
}

interface Shared { log: AuditLog; refs: number }
const shared = new Map<string, Shared>();

/** The process-wide audit log of a directory, shared by every store-config (reference counted: call `release`). */
export function openAuditLog(options: AuditOptions): { log: AuditLog; release: () => Promise<void> } {
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
    // Resolves once the last holder's buffered rows are on disk and the file is closed.
    release: async () => {
      if (released) return;
      released = true;
      entry.refs--;
      if (entry.refs <= 0) {
        shared.delete(key);
        await entry.log.close();
      }
    },
  };
}

/**
 * Records every call `client` makes into the audit log of `directory` (normally
 * `stateDirectory(RED.settings.userDir)` from lib/stores/config.ts). Returns the function that stops
 * it (resolving once the buffered rows are written): call it from the store-config node's `close` handler.
 */
export function attachAuditLog(client: Pick<MagentoClient, 'onCall'>, directory: string, retentionDays?: number): () => Promise<void> {
  const { log, release } = openAuditLog({ directory, retentionDays });
  const unsubscribe = client.onCall((record) => log.record(record));
  return () => {
    unsubscribe();
    return release();
  };
}

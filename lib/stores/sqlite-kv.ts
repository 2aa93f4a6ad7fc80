/** Key/value store in an SQLite file: durable across restart and crash (see sqlite-db.ts). Each operation is one statement, atomic by itself. */
import { acquireDatabase, record, recorded, releaseDatabase, sqliteFile, type BatchStatement, type SqliteDatabase } from './sqlite-db';
import { canonicalJson, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import { PurgeTimer } from './purge';
import type { JsonValue, KeyValueStore, StoreOptions } from './types';

const SCHEMA = `CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;`;

const SQL = {
  get: 'SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)',
  upsert: 'INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
  update: 'UPDATE kv SET value = ?, expires_at = ? WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)',
  del: 'DELETE FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)',
  purge: 'DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)',
};

export type InsertRow = [key: string, value: string, expiresAt: number | null];
/** How many values an InsertRow holds: where what a row carries after it starts. */
export const INSERT_ROW_LENGTH = 3;

/**
 * For batch programs (see BatchStatement in sqlite-db.ts) whose rows start with an InsertRow: whether
 * the row's key is held (there and not expired)…
 */
export const KEY_HELD = 'EXISTS (SELECT 1 FROM main.kv WHERE key = NEW.r ->> 0 AND (expires_at IS NULL OR expires_at > NEW.now))';

/** …and writing its key where `condition` holds (an expired row there is replaced). */
export function claimWhere(condition: string): string {
  return `INSERT INTO main.kv (key, value, expires_at) SELECT NEW.r ->> 0, NEW.r ->> 1, NEW.r ->> 2 WHERE ${condition}
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;`;
}

/** Whether each row was written (its key absent or expired). */
const insertIfAbsent: BatchStatement<InsertRow, boolean> = {
  name: 'kv_insert_if_absent',
  program: `${record(`NOT ${KEY_HELD}`)}
    ${claimWhere(`${recorded()} = '1'`)}`,
  result: (answer) => answer === '1',
};

export class SqliteKeyValueStore implements KeyValueStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: SqliteDatabase;
  /** Resolves once the file has this store's tables (every call waits for it). */
  readonly ready: Promise<void>;
  private readonly purger: PurgeTimer;
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'directory' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.ready = this.db.exec(SCHEMA);
    this.ready.catch(() => undefined);
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  private expiry(ttlMs?: number): number | null {
    const ttl = checkTtl(ttlMs);
    return ttl === undefined ? null : Date.now() + ttl;
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    checkKey(key);
    await this.ready;
    const row = await this.db.get<{ value: string }>(SQL.get, [key, Date.now()]);
    return parseJson<T>(row?.value);
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    const args = [checkKey(key), canonicalJson(value), this.expiry(ttlMs)];
    await this.ready;
    await this.db.run(SQL.upsert, args);
  }

  async setIfAbsent(key: string, value: JsonValue, ttlMs?: number): Promise<boolean> {
    const row: InsertRow = [checkKey(key), canonicalJson(value), this.expiry(ttlMs)];
    await this.ready;
    return this.db.batch(insertIfAbsent, row);
  }

  async compareAndSet(key: string, expected: JsonValue | undefined, value: JsonValue, ttlMs?: number): Promise<boolean> {
    if (expected === undefined) return this.setIfAbsent(key, value, ttlMs);
    const args = [canonicalJson(value), this.expiry(ttlMs), checkKey(key), canonicalJson(expected)];
    await this.ready;
    return (await this.db.run(SQL.update, [...args, Date.now()])).changes === 1;
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    await this.ready;
    return (await this.db.run(SQL.del, [key, Date.now()])).changes === 1;
  }

  async purgeExpired(limit = 500): Promise<number> {
    if (this.closed) return 0;
    await this.ready;
    return (await this.db.run(SQL.purge, [Date.now(), limit])).changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.purger.stop();
    await releaseDatabase(this.file);
  }
}

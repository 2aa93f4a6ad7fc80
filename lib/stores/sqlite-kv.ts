/** Key/value store in an SQLite file: durable across restart and crash (see sqlite-db.ts). */
import type Database from 'better-sqlite3';
import { acquireDatabase, releaseDatabase, sqliteFile } from './sqlite-db';
import { canonicalJson, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import { PurgeTimer } from './purge';
import type { JsonValue, KeyValueStore, StoreOptions } from './types';

export class SqliteKeyValueStore implements KeyValueStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly purger: PurgeTimer;
  private readonly stmt: {
    get: Database.Statement;
    upsert: Database.Statement;
    insertIfAbsent: Database.Statement;
    update: Database.Statement;
    del: Database.Statement;
    purge: Database.Statement;
  };
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'directory' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      expires_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;`);
    this.stmt = {
      get: this.db.prepare('SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
      upsert: this.db.prepare('INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'),
      // An expired row counts as absent: replace it in the same statement.
      insertIfAbsent: this.db.prepare(`INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
        WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?`),
      update: this.db.prepare('UPDATE kv SET value = ?, expires_at = ? WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)'),
      del: this.db.prepare('DELETE FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
      purge: this.db.prepare('DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)'),
    };
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  private expiry(ttlMs?: number): number | null {
    const ttl = checkTtl(ttlMs);
    return ttl === undefined ? null : Date.now() + ttl;
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    const row = this.stmt.get.get(checkKey(key), Date.now()) as { value: string } | undefined;
    return parseJson<T>(row?.value);
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    this.stmt.upsert.run(checkKey(key), canonicalJson(value), this.expiry(ttlMs));
  }

  async setIfAbsent(key: string, value: JsonValue, ttlMs?: number): Promise<boolean> {
    return this.stmt.insertIfAbsent.run(checkKey(key), canonicalJson(value), this.expiry(ttlMs), Date.now()).changes === 1;
  }

  async compareAndSet(key: string, expected: JsonValue | undefined, value: JsonValue, ttlMs?: number): Promise<boolean> {
    if (expected === undefined) return this.setIfAbsent(key, value, ttlMs);
    return this.stmt.update.run(canonicalJson(value), this.expiry(ttlMs), checkKey(key), canonicalJson(expected), Date.now()).changes === 1;
  }

  async delete(key: string): Promise<boolean> {
    return this.stmt.del.run(checkKey(key), Date.now()).changes === 1;
  }

  async purgeExpired(limit = 500): Promise<number> {
    if (this.closed) return 0;
    return this.stmt.purge.run(Date.now(), limit).changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.purger.stop();
    releaseDatabase(this.file);
  }
}

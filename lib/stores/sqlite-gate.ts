/**
 * Idempotency store in an SQLite file (the default). Each operation is one IMMEDIATE transaction, so a
 * second process on the same file cannot interleave between the read and the write; within one
 * process better-sqlite3 is synchronous and nothing interleaves anyway.
 */
import { randomUUID } from 'crypto';
import type Database from 'better-sqlite3';
import { acquireRule, commitRule, isLive, releaseRule } from './gate-rules';
import { canonicalJson, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import { PurgeTimer } from './purge';
import { acquireDatabase, releaseDatabase, sqliteFile } from './sqlite-db';
import type { AcquireResult, CommitOutcome, GateRecord, IdempotencyStore, JsonValue, ReleaseOutcome, StoreOptions } from './types';

interface Row {
  key: string;
  state: 'in-flight' | 'done';
  token: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
  lease_until: number | null;
  expires_at: number | null;
  attempts: number;
}

function fromRow(row: Row | undefined): GateRecord | undefined {
  if (!row) return undefined;
  const record: GateRecord = { key: row.key, state: row.state, createdAt: row.created_at, updatedAt: row.updated_at, attempts: row.attempts };
  if (row.token !== null) record.token = row.token;
  if (row.result !== null) record.result = parseJson(row.result);
  if (row.lease_until !== null) record.leaseUntil = row.lease_until;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  return record;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly purger: PurgeTimer;
  private readonly stmt: Record<'get' | 'put' | 'del' | 'renew' | 'countInFlight' | 'countDone' | 'purge', Database.Statement>;
  private readonly tx: {
    acquire: (key: string, leaseMs: number, token: string) => AcquireResult;
    commit: (key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number) => { outcome: CommitOutcome; record: GateRecord };
    release: (key: string, token: string | undefined) => ReleaseOutcome;
  };
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'directory' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS gate (
      key TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      token TEXT,
      result TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      lease_until INTEGER,
      expires_at INTEGER,
      attempts INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX IF NOT EXISTS gate_lease ON gate (lease_until) WHERE state = 'in-flight';
    CREATE INDEX IF NOT EXISTS gate_expires ON gate (expires_at) WHERE state = 'done';`);
    this.stmt = {
      get: this.db.prepare('SELECT * FROM gate WHERE key = ?'),
      put: this.db.prepare(`INSERT OR REPLACE INTO gate (key, state, token, result, created_at, updated_at, lease_until, expires_at, attempts)
        VALUES (@key, @state, @token, @result, @createdAt, @updatedAt, @leaseUntil, @expiresAt, @attempts)`),
      del: this.db.prepare('DELETE FROM gate WHERE key = ?'),
      renew: this.db.prepare("UPDATE gate SET lease_until = ?, updated_at = ? WHERE key = ? AND state = 'in-flight' AND token = ? AND lease_until > ?"),
      countInFlight: this.db.prepare("SELECT COUNT(*) AS n FROM gate WHERE state = 'in-flight' AND lease_until > ?"),
      countDone: this.db.prepare("SELECT COUNT(*) AS n FROM gate WHERE state = 'done' AND expires_at > ?"),
      purge: this.db.prepare(`DELETE FROM gate WHERE rowid IN (
        SELECT rowid FROM gate WHERE state = 'done' AND expires_at <= @now
        UNION ALL SELECT rowid FROM gate WHERE state = 'in-flight' AND lease_until <= @now LIMIT @limit)`),
    };
    const get = (key: string) => fromRow(this.stmt.get.get(key) as Row | undefined);
    const put = (r: GateRecord) => this.stmt.put.run({
      key: r.key, state: r.state, token: r.token ?? null, result: r.result === undefined ? null : canonicalJson(r.result),
      createdAt: r.createdAt, updatedAt: r.updatedAt, leaseUntil: r.leaseUntil ?? null, expiresAt: r.expiresAt ?? null, attempts: r.attempts,
    });
    const acquire = this.db.transaction((key: string, leaseMs: number, token: string) => {
      const { result, write } = acquireRule(get(key), key, Date.now(), leaseMs, token);
      if (write) put(write);
      return result;
    });
    const commit = this.db.transaction((key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number) => {
      const out = commitRule(get(key), key, Date.now(), token, result, ttlMs);
      if (out.write) put(out.write);
      return { outcome: out.outcome, record: out.record };
    });
    const release = this.db.transaction((key: string, token: string | undefined) => {
      const outcome = releaseRule(get(key), Date.now(), token);
      if (outcome === 'released') this.stmt.del.run(key);
      return outcome;
    });
    this.tx = { acquire: acquire.immediate, commit: commit.immediate, release: release.immediate };
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  async acquire(key: string, leaseMs: number): Promise<AcquireResult> {
    return this.tx.acquire(checkKey(key), checkTtl(leaseMs, 'leaseMs') ?? 1, randomUUID());
  }

  async commit(key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number): Promise<{ outcome: CommitOutcome; record: GateRecord }> {
    return this.tx.commit(checkKey(key), token, result, checkTtl(ttlMs, 'ttlMs') ?? 1);
  }

  async release(key: string, token: string | undefined): Promise<ReleaseOutcome> {
    return this.tx.release(checkKey(key), token);
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    return this.stmt.renew.run(now + (checkTtl(leaseMs, 'leaseMs') ?? 1), now, checkKey(key), token, now).changes === 1;
  }

  async forget(key: string): Promise<boolean> {
    const live = isLive(fromRow(this.stmt.get.get(checkKey(key)) as Row | undefined), Date.now());
    this.stmt.del.run(key);
    return live;
  }

  async peek(key: string): Promise<GateRecord | undefined> {
    const record = fromRow(this.stmt.get.get(checkKey(key)) as Row | undefined);
    return isLive(record, Date.now()) ? record : undefined;
  }

  async counts(): Promise<{ inFlight: number; done: number }> {
    const now = Date.now();
    return {
      inFlight: (this.stmt.countInFlight.get(now) as { n: number }).n,
      done: (this.stmt.countDone.get(now) as { n: number }).n,
    };
  }

  async purgeExpired(limit = 500): Promise<number> {
    if (this.closed) return 0;
    return this.stmt.purge.run({ now: Date.now(), limit }).changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.purger.stop();
    releaseDatabase(this.file);
  }
}

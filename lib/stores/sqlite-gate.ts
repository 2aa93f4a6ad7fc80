/**
 * Idempotency store in an SQLite file (the default). Each check-and-mark is one IMMEDIATE transaction
 * holding the connection's turn (see sqlite-db.ts): nothing of this process and no second process on
 * the same file can come between the read and the write.
 */
import { randomUUID } from 'crypto';
import { acquireRule, commitRule, isLive, parkRule, PARKED_FOR_RETRY, releaseRule } from './gate-rules';
import { canonicalJson, checkHolder, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import { PurgeTimer } from './purge';
import { acquireDatabase, record, recorded, releaseDatabase, sqliteFile, type BatchStatement, type SqliteDatabase, type SqlRunner } from './sqlite-db';
import type { AcquireResult, CommitOutcome, GateRecord, IdempotencyStore, JsonValue, ParkOutcome, ReleaseOutcome, StoreOptions } from './types';

interface Row {
  key: string;
  state: 'in-flight' | 'done';
  token: string | null;
  holder: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
  lease_until: number | null;
  expires_at: number | null;
  attempts: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS gate (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    token TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    lease_until INTEGER,
    expires_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    holder TEXT
  );
  CREATE INDEX IF NOT EXISTS gate_lease ON gate (lease_until) WHERE state = 'in-flight';
  CREATE INDEX IF NOT EXISTS gate_expires ON gate (expires_at) WHERE state = 'done';`;

const SQL = {
  get: 'SELECT * FROM gate WHERE key = ?',
  put: `INSERT OR REPLACE INTO gate (key, state, token, result, created_at, updated_at, lease_until, expires_at, attempts, holder)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  columns: 'PRAGMA table_info(gate)',
  // Files made before gates knew holders (0.1.0) get the column.
  addHolder: 'ALTER TABLE gate ADD COLUMN holder TEXT',
  del: 'DELETE FROM gate WHERE key = ?',
  releaseHeld: "DELETE FROM gate WHERE key = ? AND state = 'in-flight' AND token = ? AND lease_until > ?",
  endLeases: `UPDATE gate SET lease_until = ?1 WHERE rowid IN (
    SELECT rowid FROM gate WHERE state = 'in-flight' AND updated_at < ?2 AND lease_until > ?1 AND holder IS NOT ?4 ORDER BY updated_at LIMIT ?3) RETURNING *`,
  renew: "UPDATE gate SET lease_until = ?, updated_at = ? WHERE key = ? AND state = 'in-flight' AND token = ? AND lease_until > ?",
  counts: `SELECT (SELECT COUNT(*) FROM gate WHERE state = 'in-flight' AND lease_until > ?1) AS inFlight,
    (SELECT COUNT(*) FROM gate WHERE state = 'done' AND expires_at > ?1) AS done`,
  // At most `limit` rows per statement, so one purge turn never holds the connection long.
  purge: `DELETE FROM gate WHERE rowid IN (
    SELECT rowid FROM gate WHERE state = 'done' AND expires_at <= ?1
    UNION ALL SELECT rowid FROM gate WHERE state = 'in-flight' AND lease_until <= ?1 LIMIT ?2)`,
};

function fromRow(row: Row | undefined): GateRecord | undefined {
  if (!row) return undefined;
  const record: GateRecord = { key: row.key, state: row.state, createdAt: row.created_at, updatedAt: row.updated_at, attempts: row.attempts };
  if (row.token !== null) record.token = row.token;
  if (row.holder !== null && row.holder !== undefined) record.holder = row.holder;
  if (row.result !== null) record.result = parseJson(row.result);
  if (row.lease_until !== null) record.leaseUntil = row.lease_until;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  return record;
}

async function read(sql: SqlRunner, key: string): Promise<GateRecord | undefined> {
  return fromRow(await sql.get<Row>(SQL.get, [key]));
}

async function write(sql: SqlRunner, r: GateRecord): Promise<void> {
  await sql.run(SQL.put, [r.key, r.state, r.token ?? null, r.result === undefined ? null : canonicalJson(r.result),
    r.createdAt, r.updatedAt, r.leaseUntil ?? null, r.expiresAt ?? null, r.attempts, r.holder ?? null]);
}

// Fast paths for the common case, one statement for every call queued together (see BatchStatement in
// sqlite-db.ts); a row they leave alone falls back to read, rule, write.

type InsertRow = [key: string, token: string, now: number, leaseUntil: number, holder: string | null];
/** Whether each row's key was taken: a key never seen (or purged). */
const insertNew: BatchStatement<InsertRow, boolean> = {
  name: 'gate_insert_new',
  program: `${record('NOT EXISTS (SELECT 1 FROM main.gate WHERE key = NEW.r ->> 0)')}
    INSERT INTO main.gate (key, state, token, created_at, updated_at, lease_until, attempts, holder)
      SELECT NEW.r ->> 0, 'in-flight', NEW.r ->> 1, NEW.r ->> 2, NEW.r ->> 2, NEW.r ->> 3, 1, NEW.r ->> 4 WHERE ${recorded()} = '1';`,
  result: (answer) => answer === '1',
};

type CommitRow = [key: string, token: string, result: string | null, now: number, expiresAt: number];
/**
 * Each row's committed record, or undefined where the key was not live and held with that token (the
 * holder commits its own live key). What the record takes from the row there: [created_at, attempts].
 */
const commitHeld: BatchStatement<CommitRow, GateRecord | undefined> = {
  name: 'gate_commit_held',
  program: `${record(`(SELECT json_array(created_at, attempts) FROM main.gate
      WHERE key = NEW.r ->> 0 AND state = 'in-flight' AND token = NEW.r ->> 1 AND lease_until > NEW.r ->> 3)`)}
    UPDATE main.gate SET state = 'done', token = NULL, holder = NULL, lease_until = NULL, result = NEW.r ->> 2, updated_at = NEW.r ->> 3,
      expires_at = NEW.r ->> 4 WHERE key = NEW.r ->> 0 AND ${recorded()} IS NOT NULL;`,
  result: (answer, [key, , result, now, expiresAt]) => {
    if (answer === null) return undefined;
    const [createdAt, attempts] = JSON.parse(answer) as [number, number];
    return fromRow({ key, state: 'done', token: null, holder: null, result, created_at: createdAt, updated_at: now, lease_until: null, expires_at: expiresAt, attempts });
  },
};

export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: SqliteDatabase;
  /** The table exists; every call waits for it (and fails with the reason when the file is unusable). */
  private readonly ready: Promise<void>;
  private readonly purger: PurgeTimer;
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'directory' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.ready = this.db.exec(SCHEMA).then(async () => {
      const columns = await this.db.all<{ name: string }>(SQL.columns);
      if (!columns.some((c) => c.name === 'holder')) await this.db.run(SQL.addHolder);
    });
    this.ready.catch(() => undefined);
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  async acquire(key: string, leaseMs: number, holder?: string): Promise<AcquireResult> {
    checkKey(key);
    checkHolder(holder);
    const lease = checkTtl(leaseMs, 'leaseMs') ?? 1;
    const token = randomUUID();
    await this.ready;
    const at = Date.now();
    // A key never seen (or purged): one statement for this and the calls queued with it.
    if (await this.db.batch(insertNew, [key, token, at, at + lease, holder ?? null])) {
      const record: GateRecord = { key, state: 'in-flight', token, createdAt: at, updatedAt: at, leaseUntil: at + lease, attempts: 1 };
      if (holder !== undefined) record.holder = holder;
      return { outcome: 'acquired', token, record };
    }
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      const { result, write: record } = acquireRule(await read(tx, key), key, now, lease, token, holder);
      if (record) await write(tx, record);
      return result;
    });
  }

  async commit(key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number): Promise<{ outcome: CommitOutcome; record: GateRecord }> {
    checkKey(key);
    const ttl = checkTtl(ttlMs, 'ttlMs') ?? 1;
    await this.ready;
    if (token !== undefined) {
      // The holder commits its own live key: one statement for this and the calls queued with it.
      const at = Date.now();
      const record = await this.db.batch(commitHeld, [key, token, result === undefined ? null : canonicalJson(result), at, at + ttl]);
      if (record) return { outcome: 'committed' as const, record };
    }
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      const out = commitRule(await read(tx, key), key, now, token, result, ttl);
      if (out.write) await write(tx, out.write);
      return { outcome: out.outcome, record: out.record };
    });
  }

  async release(key: string, token: string | undefined): Promise<ReleaseOutcome> {
    checkKey(key);
    await this.ready;
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      if (token !== undefined && (await tx.run(SQL.releaseHeld, [key, token, now])).changes === 1) return 'released';
      const outcome = releaseRule(await read(tx, key), now, token);
      if (outcome === 'released') await tx.run(SQL.del, [key]);
      return outcome;
    });
  }

  async park(key: string, token: string | undefined, leaseMs: number): Promise<ParkOutcome> {
    checkKey(key);
    const lease = checkTtl(leaseMs, 'leaseMs') ?? 1;
    await this.ready;
    return this.db.transaction(async (tx) => {
      const { outcome, write: record } = parkRule(await read(tx, key), Date.now(), token, lease);
      if (record) await write(tx, record);
      return outcome;
    });
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    checkKey(key);
    const lease = checkTtl(leaseMs, 'leaseMs') ?? 1;
    await this.ready;
    const now = Date.now();
    return (await this.db.run(SQL.renew, [now + lease, now, key, token, now])).changes === 1;
  }

  async endLeasesTakenBefore(takenBefore: number, limit = 10_000): Promise<GateRecord[]> {
    await this.ready;
    const rows = await this.db.transaction((tx) => tx.all<Row>(SQL.endLeases, [Date.now(), takenBefore, limit, PARKED_FOR_RETRY]));
    return rows.map((row) => fromRow(row)!).sort((a, b) => a.updatedAt - b.updatedAt);
  }

  async forget(key: string): Promise<boolean> {
    checkKey(key);
    await this.ready;
    return this.db.transaction(async (tx) => {
      const live = isLive(await read(tx, key), Date.now());
      await tx.run(SQL.del, [key]);
      return live;
    });
  }

  async peek(key: string): Promise<GateRecord | undefined> {
    checkKey(key);
    await this.ready;
    const record = await read(this.db, key);
    return isLive(record, Date.now()) ? record : undefined;
  }

  async counts(): Promise<{ inFlight: number; done: number }> {
    await this.ready;
    const row = await this.db.get<{ inFlight: number; done: number }>(SQL.counts, [Date.now()]);
    return { inFlight: row?.inFlight ?? 0, done: row?.done ?? 0 };
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

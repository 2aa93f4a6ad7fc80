/**
 * Retry queue in an SQLite file (the default): a retry or dead letter that was acknowledged survives
 * SIGKILL. The entry is one JSON document; the columns beside it are what the queue searches by.
 * `put` is one statement, its capacity check included; `claimDue` is an IMMEDIATE transaction (see sqlite-db.ts).
 */
import { checkStoreName } from './json';
import { byFirstFailure, checkEntry, listStates, listWindow } from './queue-rules';
import { acquireDatabase, releaseDatabase, sqliteFile, type BatchStatement, type SqliteDatabase, type SqlRunner } from './sqlite-db';
import type { QueueCounts, QueueEntry, QueueEntryState, QueueListOptions, RetryQueueStore, StoreOptions } from './types';

const SCHEMA = `CREATE TABLE IF NOT EXISTS queue (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    entry TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS queue_due ON queue (state, next_attempt_at);
  CREATE INDEX IF NOT EXISTS queue_state_age ON queue (state, first_failed_at);`;

const SQL = {
  get: 'SELECT entry FROM queue WHERE id = ?',
  upsert: 'INSERT OR REPLACE INTO queue (id, state, next_attempt_at, first_failed_at, entry) VALUES (?, ?, ?, ?, ?)',
  // The capacity check and the write in one statement (atomic by itself): a new live entry only while
  // the live ones number fewer than ?6; an update, or a dead/finished entry, always.
  upsertBounded: `INSERT OR REPLACE INTO queue (id, state, next_attempt_at, first_failed_at, entry)
    SELECT ?1, ?2, ?3, ?4, ?5
    WHERE ?2 NOT IN ('pending', 'in-flight')
      OR EXISTS (SELECT 1 FROM queue WHERE id = ?1)
      OR (SELECT COUNT(*) FROM queue WHERE state IN ('pending', 'in-flight')) < ?6`,
  // The same for every call queued together (rows [id, state, nextAttemptAt, firstFailedAt, entry] as a JSON
  // array in ?1, see BatchStatement), only while all of them fit: the capacity is counted once, before any is
  // written. A row left out (the queue nearly full) is tried again on its own with upsertBounded. The entry is
  // an object inside the array, stored as its JSON text (`->`): serialised once, not as a string in a string.
  upsertBoundedRows: `INSERT OR REPLACE INTO queue (id, state, next_attempt_at, first_failed_at, entry)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4 FROM json_each(?1)
    WHERE (SELECT COUNT(*) FROM queue WHERE state IN ('pending', 'in-flight')) + json_array_length(?1) <= ?2
    RETURNING id`,
  delRows: 'DELETE FROM queue WHERE id IN (SELECT value FROM json_each(?1)) RETURNING id',
  due: "SELECT entry FROM queue WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
  next: "SELECT MIN(next_attempt_at) AS t FROM queue WHERE state = 'pending'",
  delState: 'DELETE FROM queue WHERE state = ?',
  counts: 'SELECT state, COUNT(*) AS n FROM queue GROUP BY state',
};

async function write(sql: SqlRunner, e: QueueEntry): Promise<void> {
  await sql.run(SQL.upsert, [e.id, e.state, e.nextAttemptAt, e.firstFailedAt, JSON.stringify(e)]);
}

/**
 * The entry as the row's last element. Entries are plain JSON documents read back whole (never compared
 * as text), so they are written as JSON.stringify gives them: no canonical key order needed.
 */
export type PutRow = [id: string, state: string, nextAttemptAt: number, firstFailedAt: number, entry: QueueEntry];

export function putRow(e: QueueEntry): PutRow {
  return [e.id, e.state, e.nextAttemptAt, e.firstFailedAt, e];
}

/**
 * Writes every row in one statement while all of them fit under `maxLive` live entries (none otherwise);
 * answers the ids written.
 */
export async function putBoundedRows(sql: SqlRunner, rows: PutRow[], maxLive: number): Promise<Set<string>> {
  return new Set((await sql.all<{ id: string }>(SQL.upsertBoundedRows, [JSON.stringify(rows), maxLive])).map((r) => r.id));
}

/** Writes one entry if it fits under `maxLive` live entries, counted exactly; answers whether it was written. */
export async function putBounded(sql: SqlRunner, e: QueueEntry, maxLive: number): Promise<boolean> {
  return (await sql.run(SQL.upsertBounded, [e.id, e.state, e.nextAttemptAt, e.firstFailedAt, JSON.stringify(e), maxLive])).changes > 0;
}

/** Puts bounded by one capacity (one batch statement per bound). */
function boundedPut(maxLive: number): BatchStatement<PutRow, boolean> {
  return {
    async run(sql, rows) {
      const written = await putBoundedRows(sql, rows, maxLive);
      return rows.map(([id]) => written.has(id));
    },
  };
}

/** Whether each id was there (and is now removed). */
const removeRows: BatchStatement<string, boolean> = {
  async run(sql, ids) {
    const removed = new Set((await sql.all<{ id: string }>(SQL.delRows, [JSON.stringify(ids)])).map((r) => r.id));
    return ids.map((id) => removed.has(id));
  },
};

export class SqliteRetryQueueStore implements RetryQueueStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: SqliteDatabase;
  /** Resolves once the file has this store's tables (every call waits for it). */
  readonly ready: Promise<void>;
  private closed = false;
  /** The batch statement for each capacity asked for (one in practice). */
  private readonly boundedPuts = new Map<number, BatchStatement<PutRow, boolean>>();

  constructor(options: Pick<StoreOptions, 'name' | 'directory'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.ready = this.db.exec(SCHEMA);
    this.ready.catch(() => undefined);
  }

  async put(entry: QueueEntry, maxLive?: number): Promise<boolean> {
    checkEntry(entry);
    await this.ready;
    if (maxLive === undefined) {
      await write(this.db, entry);
      return true;
    }
    let statement = this.boundedPuts.get(maxLive);
    if (!statement) this.boundedPuts.set(maxLive, statement = boundedPut(maxLive));
    if (await this.db.batch(statement, putRow(entry), entry.id)) return true;
    // The capacity left fewer places than rows in the batch: this one on its own, counted exactly.
    return putBounded(this.db, entry, maxLive);
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    await this.ready;
    const row = await this.db.get<{ entry: string }>(SQL.get, [id]);
    return row ? JSON.parse(row.entry) : undefined;
  }

  async claimDue(now: number, limit: number, owner: string, leaseMs: number): Promise<QueueEntry[]> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<{ entry: string }>(SQL.due, [now, limit]);
      const claimed: QueueEntry[] = [];
      for (const row of rows) {
        const e = JSON.parse(row.entry) as QueueEntry;
        e.state = 'in-flight';
        e.owner = owner;
        e.leaseUntil = now + leaseMs;
        e.updatedAt = now;
        await write(tx, e);
        claimed.push(e);
      }
      return claimed;
    });
  }

  async nextDueAt(): Promise<number | undefined> {
    await this.ready;
    const row = await this.db.get<{ t: number | null }>(SQL.next);
    return row?.t ?? undefined;
  }

  async list(options?: QueueListOptions): Promise<QueueEntry[]> {
    const states = listStates(options);
    const { limit, offset } = listWindow(options);
    const marks = states.map(() => '?').join(', ');
    await this.ready;
    const rows = await this.db.all<{ entry: string }>(`SELECT entry FROM queue WHERE state IN (${marks}) ORDER BY first_failed_at, id LIMIT ? OFFSET ?`,
      [...states, limit, offset]);
    return rows.map((r) => JSON.parse(r.entry) as QueueEntry).sort(byFirstFailure);
  }

  async remove(id: string): Promise<boolean> {
    await this.ready;
    return this.db.batch(removeRows, id, id);
  }

  async removeByState(state: QueueEntryState): Promise<number> {
    listStates({ state });
    await this.ready;
    return (await this.db.run(SQL.delState, [state])).changes;
  }

  async counts(): Promise<QueueCounts> {
    await this.ready;
    const c: QueueCounts = { pending: 0, inFlight: 0, dead: 0, finished: 0 };
    for (const row of await this.db.all<{ state: QueueEntryState; n: number }>(SQL.counts)) {
      if (row.state === 'in-flight') c.inFlight = row.n;
      else c[row.state] = row.n;
    }
    return c;
  }

  /** The connection to this store's file, shared with every store opened under the same name. */
  get database(): SqliteDatabase {
    return this.db;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseDatabase(this.file);
  }
}

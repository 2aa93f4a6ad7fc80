/**
 * Retry queue in an SQLite file (the default): a retry or dead letter that was acknowledged survives
 * SIGKILL. The entry is one JSON document; the columns beside it are what the queue searches by.
 * `put` is one batch script, its capacity check included; `claimDue` is an IMMEDIATE transaction (see sqlite-db.ts).
 */
import { checkStoreName } from './json';
import { byFirstFailure, checkEntry, checkMaxLive, listStates, listWindow } from './queue-rules';
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

/** SQL for batch scripts (see BatchStatement in sqlite-db.ts): how many live entries the queue holds. */
export const LIVE_ENTRIES = "(SELECT COUNT(*) FROM queue WHERE state IN ('pending', 'in-flight'))";

/**
 * …and writing the entry of each row that recorded `result`, the PutRow's fields from position `at` of
 * the row on (the entry, an object, kept as its JSON text).
 */
export function putRecorded(result: string, at = 0): string {
  const field = (i: number): string => `b.r ->> ${at + i}`;
  return `INSERT OR REPLACE INTO queue (id, state, next_attempt_at, first_failed_at, entry)
    SELECT ${field(0)}, ${field(1)}, ${field(2)}, ${field(3)}, b.r -> ${at + 4} FROM temp.batch_rows b JOIN temp.batch_result x USING (turn)
    WHERE x.result = ${result}`;
}

/**
 * Puts bounded by one capacity (one batch statement per bound), counted exactly, in the rows' order: a new
 * live entry while fewer than `maxLive` live entries are queued (those of the rows before it included); an
 * update of an entry there, or a dead/finished entry, always.
 */
function boundedPut(maxLive: number): BatchStatement<PutRow, boolean> {
  return {
    script: () => `INSERT INTO temp.batch_result (turn, result)
      SELECT turn, NOT adds OR live + SUM(adds) OVER (ORDER BY turn) <= ${maxLive}
      FROM (SELECT b.turn AS turn, ${LIVE_ENTRIES} AS live,
          (b.r ->> 1) IN ('pending', 'in-flight') AND NOT EXISTS (SELECT 1 FROM queue WHERE id = b.r ->> 0) AS adds
        FROM temp.batch_rows b);
      ${putRecorded("'1'")}`,
    result: (recorded) => recorded === '1',
  };
}

/** Whether each id was there (and is now removed). Rows: [id]. */
const removeRows: BatchStatement<[id: string], boolean> = {
  script: () => `INSERT INTO temp.batch_result (turn, result)
      SELECT b.turn, EXISTS (SELECT 1 FROM queue WHERE id = b.r ->> 0) FROM temp.batch_rows b;
    DELETE FROM queue WHERE id IN (SELECT r ->> 0 FROM temp.batch_rows)`,
  result: (recorded) => recorded === '1',
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
    checkMaxLive(maxLive);
    await this.ready;
    if (maxLive === undefined) {
      await write(this.db, entry);
      return true;
    }
    let statement = this.boundedPuts.get(maxLive);
    if (!statement) this.boundedPuts.set(maxLive, statement = boundedPut(maxLive));
    return this.db.batch(statement, putRow(entry), entry.id);
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
    return this.db.batch(removeRows, [id], id);
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

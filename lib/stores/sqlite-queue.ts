/**
 * Retry queue in an SQLite file (the default): a retry or dead letter that was acknowledged survives
 * SIGKILL. The entry is one JSON document; the columns beside it are what the queue searches by.
 * `put` is one batch program, its capacity check included; `claimDue` is an IMMEDIATE transaction (see sqlite-db.ts).
 */
import { checkStoreName } from './json';
import { byFirstFailure, checkEntry, checkMaxLive, listStates, listWindow } from './queue-rules';
import { acquireDatabase, record, recorded, releaseDatabase, sqliteFile, type BatchStatement, type SqliteDatabase, type SqlRunner } from './sqlite-db';
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

/** How many values a PutRow holds: where what a row carries after it starts. */
export const PUT_ROW_LENGTH = 5;

export function putRow(e: QueueEntry): PutRow {
  return [e.id, e.state, e.nextAttemptAt, e.firstFailedAt, e];
}

/**
 * For batch programs (see BatchStatement in sqlite-db.ts): the live entries of the queue counted once per
 * group, into temp.batch_live (kept up to date by the programs that add or remove one, liveChange)…
 */
const IS_LIVE = "IN ('pending', 'in-flight')";
export const COUNT_LIVE = `INSERT INTO temp.batch_live (grp, n) SELECT NEW.grp, (SELECT COUNT(*) FROM main.queue WHERE state ${IS_LIVE})
    WHERE NOT EXISTS (SELECT 1 FROM temp.batch_live WHERE grp = NEW.grp);`;

/**
 * …whether a new live entry still fits under the capacity at position `at` of the row (a number the caller
 * checked: one program for every capacity)…
 */
export function liveFits(at: number): string {
  return `(SELECT n FROM temp.batch_live WHERE grp = NEW.grp) < (NEW.r ->> ${at})`;
}

/** …the count changed by `delta` (an SQL expression) when `condition` holds (a group with no count yet counts later)… */
export function liveChange(delta: string, condition = 'true'): string {
  return `UPDATE temp.batch_live SET n = n + (${delta}) WHERE grp = NEW.grp AND ${condition};`;
}

/** …and writing the entry of a row whose PutRow starts at position `at` where `condition` holds. */
export function putWhere(condition: string, at = 0): string {
  const field = (i: number): string => `NEW.r ->> ${at + i}`;
  return `INSERT OR REPLACE INTO main.queue (id, state, next_attempt_at, first_failed_at, entry)
    SELECT ${field(0)}, ${field(1)}, ${field(2)}, ${field(3)}, NEW.r -> ${at + 4} WHERE ${condition};`;
}

/** Whether the entry with the row's id is there and live (0 when absent). */
const WAS_LIVE = `COALESCE((SELECT state ${IS_LIVE} FROM main.queue WHERE id = NEW.r ->> 0), 0)`;

/** A PutRow and the capacity it is bounded by. */
type BoundedPutRow = [...PutRow, maxLive: number];

/**
 * Puts bounded by a capacity, counted exactly, in the order asked: a new live entry while fewer than
 * `maxLive` live entries are queued; an update of an entry there, or a dead/finished entry, always.
 */
const boundedPut: BatchStatement<BoundedPutRow, boolean> = {
  name: 'queue_put_bounded',
  program: `${COUNT_LIVE}
    ${record(`(NEW.r ->> 1) NOT ${IS_LIVE} OR EXISTS (SELECT 1 FROM main.queue WHERE id = NEW.r ->> 0) OR ${liveFits(PUT_ROW_LENGTH)}`)}
    ${liveChange(`((NEW.r ->> 1) ${IS_LIVE}) - ${WAS_LIVE}`, `${recorded()} = '1'`)}
    ${putWhere(`${recorded()} = '1'`)}`,
  result: (answer) => answer === '1',
};

/** Whether each id was there (and is now removed). Rows: [id]. */
const removeRows: BatchStatement<[id: string], boolean> = {
  name: 'queue_remove',
  program: `${record('EXISTS (SELECT 1 FROM main.queue WHERE id = NEW.r ->> 0)')}
    ${liveChange(`-${WAS_LIVE}`)}
    DELETE FROM main.queue WHERE id = NEW.r ->> 0;`,
  result: (answer) => answer === '1',
};

export class SqliteRetryQueueStore implements RetryQueueStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: SqliteDatabase;
  /** Resolves once the file has this store's tables (every call waits for it). */
  readonly ready: Promise<void>;
  private closed = false;

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
    return this.db.batch(boundedPut, [...putRow(entry), maxLive]);
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
    return this.db.batch(removeRows, [id]);
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

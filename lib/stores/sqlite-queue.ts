/**
 * Retry queue in an SQLite file (the default): a retry or dead letter that was acknowledged survives
 * SIGKILL. The entry is one JSON document; the columns beside it are what the queue searches by.
 */
import type Database from 'better-sqlite3';
import { canonicalJson, checkStoreName } from './json';
import { byFirstFailure, checkEntry, isLiveState, listStates, listWindow } from './queue-rules';
import { acquireDatabase, releaseDatabase, sqliteFile } from './sqlite-db';
import type { QueueCounts, QueueEntry, QueueEntryState, QueueListOptions, RetryQueueStore, StoreOptions } from './types';

export class SqliteRetryQueueStore implements RetryQueueStore {
  readonly kind = 'sqlite' as const;
  readonly name: string;
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly stmt: Record<'get' | 'exists' | 'countLive' | 'upsert' | 'due' | 'next' | 'del' | 'delState' | 'counts', Database.Statement>;
  private readonly tx: {
    put: (entry: QueueEntry, maxLive: number | undefined) => boolean;
    claim: (now: number, limit: number, owner: string, leaseMs: number) => QueueEntry[];
  };
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'directory'>) {
    this.name = checkStoreName(options.name);
    this.file = sqliteFile(options.directory, this.name);
    this.db = acquireDatabase(this.file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS queue (
      id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      next_attempt_at INTEGER NOT NULL,
      first_failed_at INTEGER NOT NULL,
      entry TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS queue_due ON queue (state, next_attempt_at);
    CREATE INDEX IF NOT EXISTS queue_state_age ON queue (state, first_failed_at);`);
    this.stmt = {
      get: this.db.prepare('SELECT entry FROM queue WHERE id = ?'),
      exists: this.db.prepare('SELECT 1 FROM queue WHERE id = ?'),
      countLive: this.db.prepare("SELECT COUNT(*) AS n FROM queue WHERE state IN ('pending', 'in-flight')"),
      upsert: this.db.prepare('INSERT OR REPLACE INTO queue (id, state, next_attempt_at, first_failed_at, entry) VALUES (?, ?, ?, ?, ?)'),
      due: this.db.prepare("SELECT entry FROM queue WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"),
      next: this.db.prepare("SELECT MIN(next_attempt_at) AS t FROM queue WHERE state = 'pending'"),
      del: this.db.prepare('DELETE FROM queue WHERE id = ?'),
      delState: this.db.prepare('DELETE FROM queue WHERE state = ?'),
      counts: this.db.prepare('SELECT state, COUNT(*) AS n FROM queue GROUP BY state'),
    };
    const write = (e: QueueEntry) => this.stmt.upsert.run(e.id, e.state, e.nextAttemptAt, e.firstFailedAt, canonicalJson(e));
    const put = this.db.transaction((entry: QueueEntry, maxLive: number | undefined) => {
      if (maxLive !== undefined && isLiveState(entry.state) && !this.stmt.exists.get(entry.id)) {
        if ((this.stmt.countLive.get() as { n: number }).n >= maxLive) return false;
      }
      write(entry);
      return true;
    });
    const claim = this.db.transaction((now: number, limit: number, owner: string, leaseMs: number) => {
      const rows = this.stmt.due.all(now, limit) as Array<{ entry: string }>;
      return rows.map((row) => {
        const e = JSON.parse(row.entry) as QueueEntry;
        e.state = 'in-flight';
        e.owner = owner;
        e.leaseUntil = now + leaseMs;
        e.updatedAt = now;
        write(e);
        return e;
      });
    });
    this.tx = { put: put.immediate, claim: claim.immediate };
  }

  async put(entry: QueueEntry, maxLive?: number): Promise<boolean> {
    return this.tx.put(checkEntry(entry), maxLive);
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    const row = this.stmt.get.get(id) as { entry: string } | undefined;
    return row ? JSON.parse(row.entry) : undefined;
  }

  async claimDue(now: number, limit: number, owner: string, leaseMs: number): Promise<QueueEntry[]> {
    return this.tx.claim(now, limit, owner, leaseMs);
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.stmt.next.get() as { t: number | null };
    return row.t ?? undefined;
  }

  async list(options?: QueueListOptions): Promise<QueueEntry[]> {
    const states = listStates(options);
    const { limit, offset } = listWindow(options);
    const marks = states.map(() => '?').join(', ');
    const rows = this.db.prepare(`SELECT entry FROM queue WHERE state IN (${marks}) ORDER BY first_failed_at, id LIMIT ? OFFSET ?`)
      .all(...states, limit, offset) as Array<{ entry: string }>;
    return rows.map((r) => JSON.parse(r.entry) as QueueEntry).sort(byFirstFailure);
  }

  async remove(id: string): Promise<boolean> {
    return this.stmt.del.run(id).changes === 1;
  }

  async removeByState(state: QueueEntryState): Promise<number> {
    listStates({ state });
    return this.stmt.delState.run(state).changes;
  }

  async counts(): Promise<QueueCounts> {
    const c: QueueCounts = { pending: 0, inFlight: 0, dead: 0, finished: 0 };
    for (const row of this.stmt.counts.all() as Array<{ state: QueueEntryState; n: number }>) {
      if (row.state === 'in-flight') c.inFlight = row.n;
      else c[row.state] = row.n;
    }
    return c;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    releaseDatabase(this.file);
  }
}

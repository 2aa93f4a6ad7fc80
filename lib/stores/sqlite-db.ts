/**
 * One SQLite file per store name, opened once per process and shared by everything using that name
 * (reference counted). The binding is sqlite3 (TryGhost node-sqlite3): a Node-API addon, so the one
 * build installed loads under Node 20 (Node-RED 4.1) and Node 22+ (Node-RED 5) alike, and its work runs
 * on libuv's thread pool, so the event loop never waits on the disk.
 *
 * A sqlite3 Database is ONE connection: a statement sent while another caller's transaction is open
 * would run inside that transaction (see its uncommitted rows, be rolled back with it). So every
 * statement and every transaction takes its turn on a per-file queue (a promise chain), and a
 * transaction holds its turn from BEGIN IMMEDIATE to COMMIT/ROLLBACK: a check-and-mark is atomic
 * within the process, and IMMEDIATE takes SQLite's write lock at once, so it is atomic against a
 * second process on the same file too (which waits up to BUSY_TIMEOUT_MS for the lock).
 *
 * WAL + synchronous=FULL: a write whose promise resolved is in the WAL on disk, so neither SIGKILL nor
 * a power cut loses it; WAL lets readers (another process) run while a write commits.
 */
import fs from 'fs';
import path from 'path';
import type * as Sqlite3 from 'sqlite3';
import { IntegrationError, ValidationError } from '../errors';
import { checkStoreName } from './json';

export type SqlValue = string | number | null;

export interface RunResult {
  /** Rows changed by an INSERT/UPDATE/DELETE. */
  changes: number;
  lastID: number;
}

/** What a transaction's body runs its statements with (inside its turn: never through the queue again). */
export interface SqlRunner {
  run(sql: string, params?: SqlValue[]): Promise<RunResult>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/** Another process holding the write lock this long makes a statement fail with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

let binding: typeof Sqlite3 | undefined;

/**
 * Loaded on the first SQLite store, not with the module: a machine where the addon failed to build
 * (no prebuilt binary, no compiler) can still run memory and Redis stores, and the SQLite ones say why.
 */
function sqlite3(): typeof Sqlite3 {
  if (!binding) {
    try {
      binding = require('sqlite3') as typeof Sqlite3;
    } catch (err) {
      throw new IntegrationError('permanent', `the SQLite binding (sqlite3) does not load: ${(err as Error).message}. In the Node-RED user directory run "npm rebuild sqlite3" (approve its install script first where npm blocks them: npm install-scripts approve sqlite3), or choose the memory or Redis store`, { operation: 'store.open', cause: err });
    }
  }
  return binding;
}

function direct(raw: Sqlite3.Database): SqlRunner {
  return {
    run: (sql, params = []) => new Promise((resolve, reject) => {
      raw.run(sql, params, function (this: Sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    }),
    get: <T>(sql: string, params: SqlValue[] = []) => new Promise<T | undefined>((resolve, reject) => {
      raw.get<T>(sql, params, (err, row) => (err ? reject(err) : resolve(row)));
    }),
    all: <T>(sql: string, params: SqlValue[] = []) => new Promise<T[]>((resolve, reject) => {
      raw.all<T>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows)));
    }),
  };
}

export class SqliteDatabase implements SqlRunner {
  readonly file: string;
  private readonly raw: Sqlite3.Database;
  private readonly sql: SqlRunner;
  /** Open + pragmas; every turn waits for it, so a file that cannot be opened fails each call with the reason. */
  private readonly opened: Promise<void>;
  /** Tail of the queue: settles when the last turn handed out has finished. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    const { Database, OPEN_CREATE, OPEN_READWRITE } = sqlite3();
    this.file = file;
    let openError: Error | null = null;
    let onOpen: () => void = () => undefined;
    const openedRaw = new Promise<void>((resolve) => { onOpen = resolve; });
    this.raw = new Database(file, OPEN_READWRITE | OPEN_CREATE, (err) => {
      openError = err;
      onOpen();
    });
    // Without a listener an open failure would be thrown as an 'error' event; the callback reports it.
    this.raw.on('error', () => undefined);
    this.sql = direct(this.raw);
    this.opened = openedRaw.then(async () => {
      if (openError) throw openError;
      this.raw.configure('busyTimeout', BUSY_TIMEOUT_MS);
      await this.sql.get('PRAGMA journal_mode = WAL');
      await this.sql.run('PRAGMA synchronous = FULL');
    });
    this.opened.catch(() => undefined);
  }

  /** Runs `work` alone on the connection, after every turn queued before it. */
  private turn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      await this.opened;
      return work();
    });
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }

  run(sql: string, params?: SqlValue[]): Promise<RunResult> {
    return this.turn(() => this.sql.run(sql, params));
  }

  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined> {
    return this.turn(() => this.sql.get<T>(sql, params));
  }

  all<T>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.turn(() => this.sql.all<T>(sql, params));
  }

  /** Several statements separated by `;` (schema creation), no parameters. */
  exec(sql: string): Promise<void> {
    return this.turn(() => new Promise<void>((resolve, reject) => {
      this.raw.exec(sql, (err) => (err ? reject(err) : resolve()));
    }));
  }

  /**
   * BEGIN IMMEDIATE, `body`, COMMIT — or ROLLBACK when `body` or the commit fails. Resolves with what
   * `body` returned once the commit is on disk. `body` must run its statements on the runner it is
   * given: calling this database's own methods from inside it would wait for its own turn forever.
   */
  transaction<T>(body: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.turn(async () => {
      await this.sql.run('BEGIN IMMEDIATE');
      try {
        const out = await body(this.sql);
        await this.sql.run('COMMIT');
        return out;
      } catch (err) {
        // After a failed COMMIT SQLite may already have rolled back; then ROLLBACK only says so.
        await this.sql.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Closes the connection after every queued turn has run. */
  close(): Promise<void> {
    const closed = this.tail.then(() => this.opened).then(
      () => new Promise<void>((resolve, reject) => {
        this.raw.close((err) => (err ? reject(err) : resolve()));
      }),
      // A file that never opened has nothing to close.
      () => undefined,
    );
    this.tail = closed.then(() => undefined, () => undefined);
    return closed;
  }
}

interface Shared { db: SqliteDatabase; refs: number }

const open = new Map<string, Shared>();

export function sqliteFile(directory: string | undefined, name: string): string {
  if (!directory) throw new ValidationError('directory', 'a directory is needed for an SQLite store (Node-RED\'s user directory by default)');
  return path.resolve(directory, `${checkStoreName(name)}.sqlite`);
}

/** The shared connection to `file`, opened on first use (opening finishes in the background; calls wait for it). */
export function acquireDatabase(file: string): SqliteDatabase {
  const shared = open.get(file);
  if (shared) {
    shared.refs++;
    return shared.db;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new SqliteDatabase(file);
  open.set(file, { db, refs: 1 });
  return db;
}

/** Drops one reference; the last one closes the file once its queued work is done. */
export async function releaseDatabase(file: string): Promise<void> {
  const shared = open.get(file);
  if (!shared) return;
  shared.refs--;
  if (shared.refs <= 0) {
    open.delete(file);
    await shared.db.close();
  }
}

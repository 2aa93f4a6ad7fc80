/**
 * One SQLite file per store name, opened once per process and shared by everything using that name
 * (reference counted). The binding is sqlite3 (TryGhost node-sqlite3): a Node-API addon, so the one
 * build installed loads under Node 20 (Node-RED 4.1) and Node 22+ (Node-RED 5) alike, and its work runs
 * on libuv's thread pool, so the event loop never waits on the disk.
 *
 * A sqlite3 Database is ONE connection: a statement sent while another caller's transaction is open
 * would run inside that transaction (see its uncommitted rows, be rolled back with it). So every
 * statement and every transaction takes its turn on a per-file queue, and a transaction holds its turn
 * from BEGIN IMMEDIATE to COMMIT/ROLLBACK: a check-and-mark is atomic within the process, and IMMEDIATE
 * takes SQLite's write lock at once, so it is atomic against a second process on the same file too
 * (which waits up to BUSY_TIMEOUT_MS for the lock). Turns that queue up meanwhile are committed together
 * (group commit, see `drain`): one disk sync for a burst instead of one per call.
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

/**
 * SQLite answers SQLITE_BUSY at once, without waiting in its busy handler, in a few cases: another process
 * switching the file to WAL or recovering it, or holding the lock a new transaction needs while this
 * connection would deadlock by waiting. Only what has not started yet (opening pragmas, BEGIN IMMEDIATE,
 * one autocommit statement) is tried again here, with short growing pauses, for up to the busy timeout.
 */
async function whileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return await attempt();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

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

/** Prepared statements kept per connection (the pack's SQL is a small fixed set); beyond this many, prepared per call. */
const MAX_CACHED_STATEMENTS = 100;

/**
 * Statements on the connection itself, reusing prepared ones. A row is read with `all` (every query here
 * is by key or aggregate): a statement stepped only once would keep its read transaction open.
 */
class Statements implements SqlRunner {
  private readonly cache = new Map<string, Sqlite3.Statement>();

  constructor(private readonly raw: Sqlite3.Database) {}

  /**
   * The cached statement, or a promise of a newly prepared one; `once` when the cache is full: finalize
   * it after use.
   */
  private prepared(sql: string): Sqlite3.Statement | Promise<{ statement: Sqlite3.Statement; once: boolean }> {
    const cached = this.cache.get(sql);
    if (cached) return cached;
    return new Promise((resolve, reject) => {
      const statement = this.raw.prepare(sql, (err) => {
        if (err) return reject(err);
        const once = this.cache.size >= MAX_CACHED_STATEMENTS;
        if (!once) this.cache.set(sql, statement);
        resolve({ statement, once });
      });
    });
  }

  /** `use` on the statement for `sql`: at once when it is cached (no promise and microtask turn per statement). */
  private with<T>(sql: string, use: (statement: Sqlite3.Statement) => Promise<T>): Promise<T> {
    const ready = this.prepared(sql);
    if (!(ready instanceof Promise)) return use(ready);
    return ready.then(async ({ statement, once }) => {
      try {
        return await use(statement);
      } finally {
        if (once) statement.finalize();
      }
    });
  }

  run(sql: string, params: SqlValue[] = []): Promise<RunResult> {
    return this.with(sql, (statement) => new Promise((resolve, reject) => {
      statement.run(params, function (this: Sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    }));
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.with(sql, (statement) => new Promise<T[]>((resolve, reject) => {
      statement.all<T>(params, (err, rows) => (err ? reject(err) : resolve(rows)));
    }));
  }

  /** Before closing: SQLite refuses to close a connection with statements still prepared. */
  async finalize(): Promise<void> {
    const statements = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(statements.map((statement) => new Promise<void>((resolve) => { statement.finalize(() => resolve()); })));
  }
}

/** Most turns committed together in one transaction. */
const MAX_GROUP = 200;

/**
 * One statement that does the same thing for many calls at once: the common case of a store call
 * (insert a new gate key, commit a held one, claim a key, journal an event). A statement costs about
 * 50 µs of round trip to SQLite's thread whatever it does; a row in a batch of many costs about 3 µs.
 *
 * `run` gets the rows of the calls that queued up together and answers each row's result, in order,
 * with ONE statement (a call alone runs it without a transaction around it).
 * Each row concerns one key and rows of one batch never share a key, so what `run` does to one row
 * cannot change what it does to another: the batch is the same as the calls one by one. A row the
 * statement could not settle (a key already there, say) answers so, and its store then runs the
 * general read-decide-write transaction for it, as a later turn.
 */
export interface BatchStatement<Row, Result> {
  run(sql: SqlRunner, rows: Row[]): Promise<Result[]>;
  /** `run` sends more than one statement: a call alone then runs in a transaction of its own (all or none). */
  readonly several?: boolean;
}

interface Batched {
  statement: BatchStatement<unknown, unknown>;
  row: unknown;
  /** What the row concerns (a key); two rows on one key never share a run. */
  key: string;
}

interface Job {
  body: (sql: SqlRunner) => Promise<unknown>;
  /** Changes the file (needs the write lock). */
  writes: boolean;
  /** One statement: atomic by itself, needs no BEGIN when it runs alone. */
  single: boolean;
  /** A row of a batch statement (`body` runs it alone). */
  batched?: Batched;
  /** Runs alone and outside any transaction, never grouped with other turns. */
  apart?: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The bodies of `jobs` (one transaction's turns) in an order that gives each the result it would
 * have had one by one: a turn that is not a batch row runs where it was asked; the batch rows
 * between two such turns, when no key comes twice among them, run as one statement per batch
 * statement (they touch different keys, so their order among themselves changes nothing).
 */
async function runTurns(sql: SqlRunner, jobs: Job[]): Promise<unknown[]> {
  const results: unknown[] = new Array(jobs.length);
  for (let i = 0; i < jobs.length;) {
    if (!jobs[i].batched) {
      results[i] = await jobs[i].body(sql);
      i++;
      continue;
    }
    // The rows from i up to the next other turn or the first repeated key.
    const keys = new Set<string>();
    let end = i;
    while (end < jobs.length && jobs[end].batched && !keys.has(jobs[end].batched!.key)) keys.add(jobs[end++].batched!.key);
    const byStatement = new Map<BatchStatement<unknown, unknown>, number[]>();
    for (let j = i; j < end; j++) {
      const statement = jobs[j].batched!.statement;
      const at = byStatement.get(statement);
      if (at) at.push(j);
      else byStatement.set(statement, [j]);
    }
    for (const [statement, at] of byStatement) {
      const out = await statement.run(sql, at.map((j) => jobs[j].batched!.row));
      if (out.length !== at.length) throw new Error(`a batch statement answered ${out.length} results for ${at.length} rows`);
      at.forEach((j, k) => { results[j] = out[k]; });
    }
    i = end;
  }
  return results;
}

const CLOSE = Symbol('close');

export class SqliteDatabase implements SqlRunner {
  readonly file: string;
  private readonly raw: Sqlite3.Database;
  private readonly sql: Statements;
  /** Open + pragmas; every turn waits for it, so a file that cannot be opened fails each call with the reason. */
  private readonly opened: Promise<void>;
  private readonly queue: Array<Job | { [CLOSE]: true; resolve: () => void; reject: (err: unknown) => void }> = [];
  private draining = false;
  private closed = false;

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
    this.sql = new Statements(this.raw);
    this.opened = openedRaw.then(async () => {
      if (openError) throw openError;
      this.raw.configure('busyTimeout', BUSY_TIMEOUT_MS);
      await whileBusy(() => this.sql.get('PRAGMA journal_mode = WAL'));
      await whileBusy(() => this.sql.run('PRAGMA synchronous = FULL'));
    });
    this.opened.catch(() => undefined);
  }

  private enqueue<T>(writes: boolean, single: boolean, body: (sql: SqlRunner) => Promise<T>, batched?: Batched, apart?: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`SQLite store file ${path.basename(this.file)} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ body, writes, single, batched, apart, resolve: resolve as (value: unknown) => void, reject });
      void this.drain();
    });
  }

  /**
   * Runs the queued turns in order. Turns that queued up while the previous ones ran (a burst of gate
   * checks) share one IMMEDIATE transaction and so one disk sync: each still sees the writes of the
   * ones before it, exactly as if they had run one by one, and each resolves only after the COMMIT.
   */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0];
        if (CLOSE in head) {
          this.queue.shift();
          await this.shut().then(head.resolve, head.reject);
          continue;
        }
        let n = 1;
        const joins = (turn: (typeof this.queue)[number]): boolean => !(CLOSE in turn) && !turn.apart;
        if (joins(head)) while (n < this.queue.length && n < MAX_GROUP && joins(this.queue[n])) n++;
        const group = this.queue.splice(0, n) as Job[];
        try {
          await this.opened;
        } catch (err) {
          for (const job of group) job.reject(err);
          continue;
        }
        if (group.length === 1 || !group.some((job) => job.writes)) {
          // Reads see every committed write without a transaction.
          for (const job of group) await this.alone(job);
        } else {
          await this.together(group);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async alone(job: Job): Promise<void> {
    if (job.single || !job.writes) {
      await whileBusy(() => job.body(this.sql)).then(job.resolve, job.reject);
      return;
    }
    try {
      await whileBusy(() => this.sql.run('BEGIN IMMEDIATE'));
    } catch (err) {
      job.reject(err);
      return;
    }
    try {
      const out = await job.body(this.sql);
      await this.sql.run('COMMIT');
      job.resolve(out);
    } catch (err) {
      // After a failed COMMIT SQLite may already have rolled back; then ROLLBACK only says so.
      await this.sql.run('ROLLBACK').catch(() => undefined);
      job.reject(err);
    }
  }

  private async together(group: Job[]): Promise<void> {
    try {
      await whileBusy(() => this.sql.run('BEGIN IMMEDIATE'));
    } catch (err) {
      for (const job of group) job.reject(err);
      return;
    }
    let results: unknown[];
    try {
      results = await runTurns(this.sql, group);
      await this.sql.run('COMMIT');
    } catch {
      await this.sql.run('ROLLBACK').catch(() => undefined);
      // Nothing of the group was written. Each on its own again, so only the turn that fails fails.
      for (const job of group) await this.alone(job);
      return;
    }
    group.forEach((job, i) => job.resolve(results[i]));
  }

  private async shut(): Promise<void> {
    try {
      await this.opened;
    } catch {
      return; // never opened: nothing to close
    }
    await this.sql.finalize();
    await new Promise<void>((resolve, reject) => {
      this.raw.close((err) => (err ? reject(err) : resolve()));
    });
  }

  run(sql: string, params?: SqlValue[]): Promise<RunResult> {
    return this.enqueue(true, true, (tx) => tx.run(sql, params));
  }

  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined> {
    return this.enqueue(false, true, (tx) => tx.get<T>(sql, params));
  }

  all<T>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.enqueue(false, true, (tx) => tx.all<T>(sql, params));
  }

  /** Several statements separated by `;` (schema creation), no parameters: all or none. */
  exec(sql: string): Promise<void> {
    return this.enqueue(true, false, () => new Promise<void>((resolve, reject) => {
      this.raw.exec(sql, (err) => (err ? reject(err) : resolve()));
    }));
  }

  /**
   * Runs `body` as one transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK when it throws) and resolves
   * with what it returned once the commit is on disk. `body` must run its statements on the runner it
   * is given: calling this database's own methods from inside it would wait for its own turn forever.
   */
  transaction<T>(body: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.enqueue(true, false, body);
  }

  /**
   * `row` through `statement` (a write), as one statement with the rows of every call that queued up
   * meanwhile (see BatchStatement); resolves with this row's result once committed. `key` is what the
   * row concerns: rows on one key are never in one statement.
   */
  batch<Row, Result>(statement: BatchStatement<Row, Result>, row: Row, key: string): Promise<Result> {
    const batched: Batched = { statement: statement as BatchStatement<unknown, unknown>, row, key };
    return this.enqueue(true, !statement.several, async (tx) => (await statement.run(tx, [row]))[0], batched);
  }

  /**
   * Runs `body` in a turn of its own outside any transaction, each statement committing by itself: for what
   * SQLite refuses inside a transaction (ATTACH, DETACH). The same rule as `transaction` holds for `body`.
   */
  outsideTransaction<T>(body: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return this.enqueue(true, true, body, undefined, true);
  }

  /** Closes the connection after every queued turn has run; later calls are refused. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ [CLOSE]: true, resolve, reject });
      void this.drain();
    });
  }
}

interface Shared { db: SqliteDatabase; refs: number }

const open = new Map<string, Shared>();

/** An SQLite store file and what SQLite keeps beside it, by suffix: the write-ahead log first (it goes with the file), the file itself last. */
export const SQLITE_FILE_SUFFIXES = ['-wal', '-shm', '-journal', ''];

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

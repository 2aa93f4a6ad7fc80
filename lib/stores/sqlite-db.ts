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
  /** Several statements separated by `;`, no parameters, in ONE round trip to SQLite's thread. */
  exec(sql: string): Promise<void>;
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

  exec(sql: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.raw.exec(sql, (err) => (err ? reject(err) : resolve()));
    });
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
 * Most rows of batch statements run together as one statement (a group of batch rows only): every call that
 * queued up while the previous group ran, as a rule. Capped at 200 too, a webhook burst (puts with the
 * removals of events taken over) often overflowed, and the overflow waited a whole round trip more (webhook
 * p99 53–61 → 45–53 ms with 1,000 in A/B runs on 2 cores).
 */
const MAX_BATCH_GROUP = 1000;

/**
 * SQLite's answers that concern the file or the connection, not one turn's statements: a group refused with
 * one of them is refused as a whole (see retryInHalves).
 */
const FILE_REFUSALS = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CANTOPEN',
  'SQLITE_PERM', 'SQLITE_NOMEM', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL', 'SQLITE_AUTH', 'SQLITE_NOLFS', 'SQLITE_MISUSE']);

/**
 * What batch statements run through, on the connection's own TEMP database (in memory): a row inserted
 * into `batch_in` — its turn, its group, the time, the batch statement's name and the call's row as JSON
 * text `r` — fires that statement's program (a BEFORE INSERT trigger), which does the call's work and
 * records its answer in `batch_result`; the INSERT's RETURNING hands the answers back, and `batch_done`
 * then deletes both rows again. `batch_live` is for programs that count something once per group (the
 * live entries of a retry queue, see sqlite-queue.ts): the first row of a group adds the group's count, which
 * drops the previous group's (`batch_live_current`).
 */
const BATCH_TABLES = `CREATE TEMP TABLE IF NOT EXISTS batch_in (turn INTEGER PRIMARY KEY, grp INTEGER NOT NULL, now INTEGER NOT NULL,
    statement TEXT NOT NULL, r TEXT NOT NULL);
  CREATE TEMP TABLE IF NOT EXISTS batch_result (turn INTEGER PRIMARY KEY, result TEXT);
  CREATE TEMP TABLE IF NOT EXISTS batch_live (grp INTEGER PRIMARY KEY, n INTEGER NOT NULL);
  CREATE TEMP TRIGGER IF NOT EXISTS batch_live_current AFTER INSERT ON batch_live BEGIN
    DELETE FROM temp.batch_live WHERE grp <> NEW.grp;
  END;
  CREATE TEMP TRIGGER IF NOT EXISTS batch_done AFTER INSERT ON batch_in BEGIN
    DELETE FROM temp.batch_result WHERE turn = NEW.turn;
    DELETE FROM temp.batch_in WHERE turn = NEW.turn;
  END`;
/** The rows of a group ([turn, statement name, row] as JSON in ?1, the group in ?2, the time in ?3), each answered. */
const RUN_BATCH = `INSERT INTO temp.batch_in (turn, grp, now, statement, r) SELECT value ->> 0, ?2, ?3, value ->> 1, value -> 2 FROM json_each(?1)
  RETURNING turn, (SELECT result FROM temp.batch_result x WHERE x.turn = batch_in.turn) AS result`;

/**
 * One program that does the same thing for many calls at once: the common case of a store call (insert
 * a new gate key, commit a held one, claim a key, journal an event, remove an entry).
 *
 * `program` is SQL statements, each ending with `;`, run for one call's row: `NEW.r` is the row as JSON
 * text (`NEW.r ->> 0` its first value, `NEW.r -> 4` an object in it as JSON), `NEW.now` the time of the
 * run (ms), `NEW.grp` the group. It records the call's answer as text with `record(…)` (`1`/`0` for a yes
 * or no, or JSON) and reads it back with `recorded()`; `result` turns it (null: nothing recorded) into the
 * call's answer. Tables are named with `main.` (the program is a TEMP trigger).
 *
 * The rows of every call that queued up together go in as ONE statement, one by one in the order asked:
 * each sees what the ones before it wrote, exactly as if they had run alone. Why: every statement is a
 * round trip from the event loop to SQLite's thread and back, and under load the event loop answers only
 * between its other work, about as long as it is busy with it (4 ms a trip at 4,000 webhooks/s on 2 cores):
 * a group of batch rows alone is one round trip and one disk sync, however many calls and statements it
 * holds, where BEGIN, a statement per kind of call and COMMIT were five for a webhook journal's group.
 */
export interface BatchStatement<Row, Result> {
  /** The program's name on the connection: letters, digits and `_`. One name, one program. */
  readonly name: string;
  readonly program: string;
  result(recorded: string | null, row: Row): Result;
}

/** A program's statement recording the call's answer, the SQL expression `value`. */
export function record(value: string): string {
  return `INSERT INTO temp.batch_result (turn, result) VALUES (NEW.turn, ${value});`;
}

/** The answer a program recorded for the call (an SQL expression, text or null). */
export function recorded(): string {
  return '(SELECT result FROM temp.batch_result WHERE turn = NEW.turn)';
}

const PROGRAM_NAME = /^[A-Za-z0-9_]+$/;

interface Batched {
  statement: BatchStatement<unknown, unknown>;
  row: unknown;
}

interface Job {
  body: (sql: SqlRunner) => Promise<unknown>;
  /** Changes the file (needs the write lock). */
  writes: boolean;
  /** One statement: atomic by itself, needs no BEGIN when it runs alone. */
  single: boolean;
  /** A row of a batch statement (run by its program, never by `body`). */
  batched?: Batched;
  /** Runs alone and outside any transaction, never grouped with other turns. */
  apart?: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The turns of `jobs` from `from` up to the next one that is not a batch row. */
function batchRun(jobs: Job[], from: number): number {
  let end = from;
  while (end < jobs.length && jobs[end].batched) end++;
  return end;
}

/** A batch row's answer from what its program recorded. */
function answerOf(job: Job, recorded: string | null): unknown {
  return job.batched!.statement.result(recorded, job.batched!.row);
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
  /** The batch statements' programs installed on this connection, by name (see BatchStatement). */
  private readonly programs = new Map<string, string>();
  /** Groups of batch rows run so far (each run's `grp`). */
  private groups = 0;

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
      // The batch statements' tables (see BatchStatement) belong to this connection: kept in memory.
      await this.sql.run('PRAGMA temp_store = MEMORY');
      await this.sql.exec(BATCH_TABLES);
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
        const joins = (turn: (typeof this.queue)[number]): boolean => !(CLOSE in turn) && !turn.apart;
        // Batch rows alone run as one statement, up to MAX_BATCH_GROUP; a group with any other turn is a transaction, up to MAX_GROUP.
        let onlyBatched = Boolean(head.batched);
        let n = 1;
        while (joins(head) && n < this.queue.length && joins(this.queue[n])) {
          onlyBatched &&= Boolean((this.queue[n] as Job).batched);
          if (n >= (onlyBatched ? MAX_BATCH_GROUP : MAX_GROUP)) break;
          n++;
        }
        let group = this.queue.splice(0, n) as Job[];
        try {
          await this.opened;
        } catch (err) {
          for (const job of group) job.reject(err);
          continue;
        }
        group = await this.install(group);
        if (group.length > 0) await this.runGroup(group);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runGroup(group: Job[]): Promise<void> {
    if (group.every((job) => job.batched)) {
      await this.batched(group);
    } else if (group.length === 1 || !group.some((job) => job.writes)) {
      // Reads see every committed write without a transaction.
      for (const job of group) await this.alone(job);
    } else {
      await this.together(group);
    }
  }

  /**
   * A group that failed wrote nothing. When the file itself refused (full, read-only, locked by another
   * process past the busy timeout…) every turn fails with that reason at once: each alone would only be
   * refused again, one round trip (or busy timeout) after the other. Otherwise a turn of it failed: its two
   * halves again, in order, down to the turns that fail, so each of the others is committed after the ones
   * asked before it, as if alone — one bad row in 1,000 costs about 20 statements, not 1,000.
   */
  private async retryInHalves(group: Job[], err: unknown): Promise<void> {
    if (group.length === 1 || FILE_REFUSALS.has((err as { code?: string })?.code ?? '')) {
      for (const job of group) job.reject(err);
      return;
    }
    const half = Math.ceil(group.length / 2);
    await this.runGroup(group.slice(0, half));
    await this.runGroup(group.slice(half));
  }

  /**
   * The batch rows `jobs[from..end)` as one statement (RUN_BATCH), their programs installed (`install`): what
   * each recorded, in order. Alone it is a transaction of its own; inside one, part of it.
   */
  private async runBatch(jobs: Job[], from: number, end: number): Promise<Array<string | null>> {
    const rows: Array<[number, string, unknown]> = [];
    for (let j = from; j < end; j++) rows.push([j - from, jobs[j].batched!.statement.name, jobs[j].batched!.row]);
    const answers = await this.sql.all<{ turn: number; result: string | number | null }>(RUN_BATCH, [JSON.stringify(rows), ++this.groups, Date.now()]);
    const recorded: Array<string | null> = new Array(end - from).fill(null);
    for (const { turn, result } of answers) recorded[turn] = result === null ? null : String(result);
    return recorded;
  }

  /**
   * The programs of the batch statements in `group` not yet on this connection, as TEMP triggers on
   * batch_in: once per connection, outside any transaction (a rollback would take one back unseen). A
   * program that cannot be installed fails its own calls, which leave the group; the others run.
   */
  private async install(group: Job[]): Promise<Job[]> {
    let refused: Map<BatchStatement<unknown, unknown>, unknown> | undefined;
    for (const job of group) {
      const statement = job.batched?.statement;
      if (!statement || this.programs.get(statement.name) === statement.program || refused?.has(statement)) continue;
      try {
        await this.installProgram(statement);
      } catch (err) {
        (refused ??= new Map()).set(statement, err);
      }
    }
    if (!refused) return group;
    const failed = refused;
    return group.filter((job) => {
      const statement = job.batched?.statement;
      if (!statement || !failed.has(statement)) return true;
      job.reject(failed.get(statement));
      return false;
    });
  }

  private async installProgram({ name, program }: BatchStatement<unknown, unknown>): Promise<void> {
    if (this.programs.has(name)) throw new ValidationError('name', `two batch statements are named ${name}`);
    if (!PROGRAM_NAME.test(name)) throw new ValidationError('name', `a batch statement's name is letters, digits and _ (got ${JSON.stringify(name)})`);
    await this.sql.exec(`CREATE TEMP TRIGGER batch_${name} BEFORE INSERT ON batch_in WHEN NEW.statement = '${name}' BEGIN\n${program}\nEND`);
    this.programs.set(name, program);
  }

  /**
   * A group of batch rows only: ONE statement, its own transaction (one round trip to SQLite's thread, one
   * disk sync). When it fails nothing of it was written: see retryInHalves.
   */
  private async batched(group: Job[]): Promise<void> {
    let recorded: Array<string | null>;
    try {
      recorded = await whileBusy(() => this.runBatch(group, 0, group.length));
    } catch (err) {
      await this.retryInHalves(group, err);
      return;
    }
    group.forEach((job, j) => {
      try {
        job.resolve(answerOf(job, recorded[j]));
      } catch (err) {
        job.reject(err);
      }
    });
  }

  private async alone(job: Job): Promise<void> {
    if (job.batched) {
      await this.batched([job]);
      return;
    }
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

  /**
   * The bodies of `group` (one transaction's turns) in the order they were asked; the batch rows between
   * two other turns as one statement (`runBatch`).
   */
  private async runTurns(group: Job[]): Promise<unknown[]> {
    const results: unknown[] = new Array(group.length);
    for (let i = 0; i < group.length;) {
      if (!group[i].batched) {
        results[i] = await group[i].body(this.sql);
        i++;
        continue;
      }
      const end = batchRun(group, i);
      const recorded = await this.runBatch(group, i, end);
      for (let j = i; j < end; j++) results[j] = answerOf(group[j], recorded[j - i]);
      i = end;
    }
    return results;
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
      results = await this.runTurns(group);
      await this.sql.run('COMMIT');
    } catch (err) {
      await this.sql.run('ROLLBACK').catch(() => undefined);
      await this.retryInHalves(group, err);
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
    return this.enqueue(true, false, (tx) => tx.exec(sql));
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
   * `row` through `statement`'s program (a write), in one statement with the rows of every call that
   * queued up meanwhile (see BatchStatement); resolves with this row's result once committed.
   */
  batch<Row, Result>(statement: BatchStatement<Row, Result>, row: Row): Promise<Result> {
    const batched: Batched = { statement: statement as BatchStatement<unknown, unknown>, row };
    // Never through `body`: a batch row runs by its statement's program (`batched`, `runTurns`).
    return this.enqueue(true, false, () => Promise.reject(new Error('a batch row runs by its program')), batched);
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

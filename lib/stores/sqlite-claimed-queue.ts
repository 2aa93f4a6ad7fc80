/**
 * A retry queue and a key/value store in ONE SQLite file (tables `queue` and `kv`), for a journal whose
 * entries each claim a key: webhook-in's journal and the seen-set of the events it accepted.
 *
 * `putClaimed` writes the entry and claims its key in one transaction: both or neither, with one disk
 * sync. In two files (or two transactions) the sender of a webhook waited for two syncs in turn, and the
 * order of the two writes had to be chosen so that a crash between them lost nothing.
 */
import fs from 'fs';
import { ValidationError } from '../errors';
import { canonicalJson, checkKey, checkTtl } from './json';
import { record, recorded, SQLITE_FILE_SUFFIXES, type BatchStatement } from './sqlite-db';
import { claimWhere, INSERT_ROW_LENGTH, KEY_HELD, SqliteKeyValueStore, type InsertRow } from './sqlite-kv';
import { COUNT_LIVE, liveChange, liveFits, PUT_ROW_LENGTH, putRow, putWhere, SqliteRetryQueueStore, type PutRow } from './sqlite-queue';
import { checkEntry, checkMaxLive } from './queue-rules';
import type { ClaimedPut, JsonValue, QueueEntry, StoreOptions } from './types';

/** The claim's InsertRow, then the entry's PutRow, then the journal's capacity. */
type ClaimedRow = [...InsertRow, ...PutRow, maxLive: number];

const OUTCOMES: readonly ClaimedPut[] = ['written', 'held', 'full'];
const WRITTEN = `${recorded()} = 'written'`;

/**
 * Each row's key claimed and its entry (a new live one) written, or neither: `held` where the key is held
 * (answered before a full queue), `full` where the queue has no room left, else `written`.
 */
const claimedPut: BatchStatement<ClaimedRow, ClaimedPut> = {
  name: 'journal_put_claimed',
  program: `${COUNT_LIVE}
    ${record(`CASE WHEN ${KEY_HELD} THEN 'held' WHEN ${liveFits(INSERT_ROW_LENGTH + PUT_ROW_LENGTH)} THEN 'written' ELSE 'full' END`)}
    ${liveChange('1', WRITTEN)}
    ${claimWhere(WRITTEN)}
    ${putWhere(WRITTEN, INSERT_ROW_LENGTH)}`,
  result: (answer) => {
    if (!OUTCOMES.includes(answer as ClaimedPut)) throw new Error(`the claimed put recorded ${JSON.stringify(answer)}`);
    return answer as ClaimedPut;
  },
};

/** The rows of another key/value file, unexpired, copied in (a key already here keeps its value). */
const ADOPT = 'INSERT OR IGNORE INTO main.kv (key, value, expires_at) SELECT key, value, expires_at FROM adopted.kv WHERE expires_at IS NULL OR expires_at > ?';

export class SqliteClaimedQueue {
  readonly queue: SqliteRetryQueueStore;
  readonly claims: SqliteKeyValueStore;

  constructor(options: Pick<StoreOptions, 'name' | 'directory' | 'purgeIntervalMs'>) {
    // The same name: the same file, one connection shared by both (sqlite-db.ts acquireDatabase).
    this.queue = new SqliteRetryQueueStore(options);
    this.claims = new SqliteKeyValueStore(options);
  }

  /**
   * Writes `entry` (while fewer than `maxLive` live entries are queued) and claims `key` for it with
   * `value` for `ttlMs` (while the key is absent or expired), in one transaction: both or neither.
   * A held key is answered before a full queue.
   */
  async putClaimed(entry: QueueEntry, maxLive: number | undefined, key: string, value: JsonValue, ttlMs: number): Promise<ClaimedPut> {
    checkEntry(entry);
    const ttl = checkTtl(ttlMs);
    if (ttl === undefined) throw new ValidationError('ttlMs', 'a claim needs a time to live');
    const row: ClaimedRow = [checkKey(key), canonicalJson(value), Date.now() + ttl, ...putRow(entry), checkMaxLive(maxLive) ?? Number.MAX_SAFE_INTEGER];
    // As every call of the two stores: after their tables exist (a read asked for before still comes first).
    await Promise.all([this.queue.ready, this.claims.ready]);
    return this.queue.database.batch(claimedPut, row);
  }

  /**
   * Takes over the unexpired keys of the key/value SQLite file `file` (an older version kept them apart),
   * then deletes that file: answers how many were taken, and why the file is still there when it could not
   * be deleted (it is then copied again at the next start: a key already here is kept). A copy cut short by
   * a crash is made again the same way, and only a finished copy deletes the file.
   */
  async adoptClaims(file: string): Promise<{ adopted: number; notRemoved?: string }> {
    const adopted = await this.queue.database.outsideTransaction(async (sql) => {
      await sql.run('ATTACH DATABASE ? AS adopted', [file]);
      try {
        // A file that never got its table (created, then closed at once) has nothing to give.
        if (!(await sql.get("SELECT 1 FROM adopted.sqlite_master WHERE type = 'table' AND name = 'kv'"))) return 0;
        return (await sql.run(ADOPT, [Date.now()])).changes;
      } finally {
        await sql.run('DETACH DATABASE adopted');
      }
    });
    try {
      for (const suffix of SQLITE_FILE_SUFFIXES) fs.rmSync(file + suffix, { force: true });
    } catch (err) {
      return { adopted, notRemoved: (err as Error).message };
    }
    return { adopted };
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.claims.close()]);
  }
}

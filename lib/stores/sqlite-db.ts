/**
 * One SQLite file per store name, opened once per process and shared by everything using that name
 * (reference counted). better-sqlite3: synchronous, so a check-and-mark is atomic within the process
 * without locks, it is the most used and best kept Node binding, and it ships prebuilt binaries.
 *
 * WAL + synchronous=FULL: a write that returned is in the WAL on disk, so neither SIGKILL nor a power
 * cut loses it; WAL lets readers run while a write commits.
 */
import fs from 'fs';
import path from 'path';
import Database from 'better-sqlite3';
import { ValidationError } from '../errors';
import { checkStoreName } from './json';

type Db = Database.Database;

interface Shared { db: Db; refs: number }

const open = new Map<string, Shared>();

export function sqliteFile(directory: string | undefined, name: string): string {
  if (!directory) throw new ValidationError('directory', 'a directory is needed for an SQLite store (Node-RED\'s user directory by default)');
  return path.resolve(directory, `${checkStoreName(name)}.sqlite`);
}

export function acquireDatabase(file: string): Db {
  const shared = open.get(file);
  if (shared) {
    shared.refs++;
    return shared.db;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Another process on the same file (a second Node-RED on one disk) waits instead of failing at once.
  db.pragma('busy_timeout = 5000');
  open.set(file, { db, refs: 1 });
  return db;
}

export function releaseDatabase(file: string): void {
  const shared = open.get(file);
  if (!shared) return;
  shared.refs--;
  if (shared.refs <= 0) {
    open.delete(file);
    shared.db.close();
  }
}

/** Store options from a node's editor settings (the same three fields on every node that keeps state). */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { ValidationError } from '../errors';
import { checkKind } from './index';
import { SQLITE_FILE_SUFFIXES } from './sqlite-db';
import type { StoreOptions } from './types';

export interface StoreConfigFields {
  storeKind?: string;
  redisUrl?: string;
}

function userDirectory(userDir: string | undefined): string {
  return userDir && userDir.trim() ? userDir : path.join(os.homedir(), '.node-red');
}

/** Store files go in `<userDir>/magento-erp/` (userDir defaults to ~/.node-red, as Node-RED's own does). */
export function stateDirectory(userDir: string | undefined): string {
  return path.join(userDirectory(userDir), 'magento-erp');
}

export interface StoreDirectory {
  directory: string;
  /** The file was found in the user directory itself and moved here. */
  moved?: boolean;
  /** It was found there and could not be moved: it is used where it is (nothing is lost). */
  notMoved?: string;
}

/**
 * Where the SQLite store `name` lives: `stateDirectory(userDir)`. Versions up to 0.1.x kept read-orders'
 * cursors, webhook-in's journal and seen-set and the push nodes' timestamps in the user directory itself;
 * such a file (with its -wal and -shm) is moved into the state directory the first time it is opened,
 * unless the state directory has one already. A move cut short (a crash) is finished at the next start:
 * each piece moves on its own, the main file last. A move that fails leaves the file where it was and
 * uses it there, so no cursor or journaled event is lost.
 */
export function storeDirectoryFor(userDir: string | undefined, name: string): StoreDirectory {
  const directory = stateDirectory(userDir);
  const legacy = userDirectory(userDir);
  const file = `${name}.sqlite`;
  if (fs.existsSync(path.join(directory, file)) || !fs.existsSync(path.join(legacy, file))) return { directory };
  try {
    fs.mkdirSync(directory, { recursive: true });
    for (const suffix of SQLITE_FILE_SUFFIXES) {
      const from = path.join(legacy, file + suffix);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(directory, file + suffix));
    }
    return { directory, moved: true };
  } catch (err) {
    return { directory: legacy, notMoved: (err as Error).message };
  }
}

export function storeOptionsFrom(fields: StoreConfigFields, name: string, userDir: string | undefined): StoreOptions {
  const kind = checkKind(fields.storeKind || 'sqlite');
  const options: StoreOptions = { kind, name, directory: stateDirectory(userDir) };
  if (kind === 'redis') {
    const url = (fields.redisUrl || process.env.MAGENTO_ERP_REDIS_URL || '').trim();
    if (!url) throw new ValidationError('redisUrl', 'a Redis store needs a URL (redis://host:6379), or MAGENTO_ERP_REDIS_URL in the environment');
    options.redisUrl = url;
    if (process.env.MAGENTO_ERP_REDIS_PREFIX) options.keyPrefix = process.env.MAGENTO_ERP_REDIS_PREFIX;
  }
  return options;
}

/** A store name from a node id or a name the user chose (several gates can share one key space). */
export function storeNameFrom(prefix: string, chosen: string | undefined, nodeId: string): string {
  const raw = (chosen && chosen.trim()) || nodeId;
  const name = `${prefix}-${raw.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  if (name.length > 120) throw new ValidationError('keySpace', 'must be at most 100 characters');
  return name;
}

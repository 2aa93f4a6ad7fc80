/** Store options from a node's editor settings (the same three fields on every node that keeps state). */
import os from 'os';
import path from 'path';
import { ValidationError } from '../errors';
import { checkKind } from './index';
import type { StoreOptions } from './types';

export interface StoreConfigFields {
  storeKind?: string;
  redisUrl?: string;
}

/** Store files go in `<userDir>/magento-erp/` (userDir defaults to ~/.node-red, as Node-RED's own does). */
export function stateDirectory(userDir: string | undefined): string {
  return path.join(userDir && userDir.trim() ? userDir : path.join(os.homedir(), '.node-red'), 'magento-erp');
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

/**
 * Where a push node keeps the last applied ERP timestamp per key: a KeyValueStore from lib/stores.
 * SQLite (the default) survives a restart, so a stale full push after a restart is still refused;
 * Redis shares the timestamps between Node-RED instances; memory is for tests and throwaway flows.
 */
import { openKeyValueStore, KeyValueStore, StoreKind, STORE_KINDS } from '../stores';

export interface TimestampStoreConfig {
  /** `sqlite` (default), `redis`, `memory`, or `none` (no stale check across messages). */
  stateStore?: StoreKind | 'none' | '';
  redisUrl?: string;
}

/** One store (one SQLite file / Redis namespace) for every push node; keys carry the kind and the store name. */
export const TIMESTAMP_STORE_NAME = 'push-timestamps';

/** The store kind chosen (`none`: no store); an unknown one is refused. */
export function timestampStoreKind(config: TimestampStoreConfig): StoreKind | 'none' {
  const kind = config.stateStore || 'sqlite';
  if (kind !== 'none' && !(STORE_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown state store "${kind}"`);
  return kind as StoreKind | 'none';
}

/** `directory`: where an SQLite store file goes. */
export function openTimestampBackend(config: TimestampStoreConfig, where: { directory?: string; maxEntries?: number }): KeyValueStore | undefined {
  const kind = timestampStoreKind(config);
  if (kind === 'none') return undefined;
  return openKeyValueStore({
    kind,
    name: TIMESTAMP_STORE_NAME,
    directory: where.directory,
    redisUrl: config.redisUrl || undefined,
    maxEntries: where.maxEntries ?? 200_000,
  });
}

/**
 * Opening stores. Every node opens its store in its constructor and closes it on `close`:
 *
 *   const cursor = openKeyValueStore({ kind: 'sqlite', name: `read-orders-${node.id}`, directory: stateDirectory(RED.settings.userDir) });
 *   await cursor.set(`${store}:${node.id}`, { updatedAt, entityId });
 *
 * Opening is synchronous (SQLite opens the file at once; ioredis connects in the background and
 * queues the first commands), so a node can open in its constructor and use the store on the first message.
 * `stateDirectory` (config.ts) is `<userDir>/magento-erp/`, where every store file of the pack lives.
 */
import { ValidationError } from '../errors';
import { MemoryKeyValueStore } from './memory-kv';
import { RedisKeyValueStore } from './redis-kv';
import { SqliteKeyValueStore } from './sqlite-kv';
import { MemoryIdempotencyStore } from './memory-gate';
import { MemoryRetryQueueStore } from './memory-queue';
import { RedisIdempotencyStore } from './redis-gate';
import { RedisRetryQueueStore } from './redis-queue';
import { SqliteIdempotencyStore } from './sqlite-gate';
import { SqliteRetryQueueStore } from './sqlite-queue';
import { STORE_KINDS, type IdempotencyStore, type KeyValueStore, type RetryQueueStore, type StoreKind, type StoreOptions } from './types';

export * from './types';
export { canonicalJson } from './json';
export { SqliteClaimedQueue } from './sqlite-claimed-queue';
export { sqliteFile } from './sqlite-db';

export function checkKind(kind: unknown): StoreKind {
  if (typeof kind !== 'string' || !(STORE_KINDS as readonly string[]).includes(kind)) {
    throw new ValidationError('kind', `must be one of ${STORE_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  }
  return kind as StoreKind;
}

export function openKeyValueStore(options: StoreOptions): KeyValueStore {
  switch (checkKind(options.kind)) {
    case 'memory': return new MemoryKeyValueStore(options);
    case 'sqlite': return new SqliteKeyValueStore(options);
    case 'redis': return new RedisKeyValueStore(options);
  }
}

export function openIdempotencyStore(options: StoreOptions): IdempotencyStore {
  switch (checkKind(options.kind)) {
    case 'memory': return new MemoryIdempotencyStore(options);
    case 'sqlite': return new SqliteIdempotencyStore(options);
    case 'redis': return new RedisIdempotencyStore(options);
  }
}

export function openRetryQueueStore(options: StoreOptions): RetryQueueStore {
  switch (checkKind(options.kind)) {
    case 'memory': return new MemoryRetryQueueStore(options);
    case 'sqlite': return new SqliteRetryQueueStore(options);
    case 'redis': return new RedisRetryQueueStore(options);
  }
}

/** Key/value store in process memory: bounded by count (LRU) and TTL; gone on restart or redeploy. */
import { LRUCache } from 'lru-cache';
import { canonicalJson, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import type { JsonValue, KeyValueStore, StoreOptions } from './types';

export const DEFAULT_MAX_ENTRIES = 10_000;

export class MemoryKeyValueStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  readonly name: string;
  private readonly cache: LRUCache<string, string>;

  constructor(options: Pick<StoreOptions, 'name' | 'maxEntries'>) {
    this.name = checkStoreName(options.name);
    // ttlAutopurge would set one timer per key; stale keys are dropped on read and by purgeExpired.
    this.cache = new LRUCache<string, string>({ max: options.maxEntries ?? DEFAULT_MAX_ENTRIES, allowStale: false });
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    return parseJson<T>(this.cache.get(checkKey(key)));
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    this.cache.set(checkKey(key), canonicalJson(value), { ttl: checkTtl(ttlMs) ?? 0 });
  }

  async setIfAbsent(key: string, value: JsonValue, ttlMs?: number): Promise<boolean> {
    if (this.cache.has(checkKey(key))) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async compareAndSet(key: string, expected: JsonValue | undefined, value: JsonValue, ttlMs?: number): Promise<boolean> {
    const current = this.cache.get(checkKey(key));
    const wanted = expected === undefined ? undefined : canonicalJson(expected);
    if (current !== wanted) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const had = this.cache.has(checkKey(key));
    this.cache.delete(key);
    return had;
  }

  async purgeExpired(): Promise<number> {
    const before = this.cache.size;
    this.cache.purgeStale();
    return before - this.cache.size;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}

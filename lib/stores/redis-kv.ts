/** Key/value store in Redis: shared by every Node-RED instance using the same URL and prefix. TTL is Redis's own. */
import type Redis from 'ioredis';
import { acquireRedis, DEFAULT_KEY_PREFIX, releaseRedis } from './redis-client';
import { canonicalJson, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import type { JsonValue, KeyValueStore, StoreOptions } from './types';

// KEYS[1] key; ARGV: expected, new value, ttl ms ('' = none)
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly name: string;
  private readonly url: string;
  private readonly redis: Redis;
  private readonly prefix: string;
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'redisUrl' | 'keyPrefix'>) {
    this.name = checkStoreName(options.name);
    this.redis = acquireRedis(options.redisUrl);
    this.url = options.redisUrl!;
    this.prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}${this.name}:kv:`;
  }

  private k(key: string): string {
    return this.prefix + checkKey(key);
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    return parseJson<T>(await this.redis.get(this.k(key)));
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    const ttl = checkTtl(ttlMs);
    if (ttl === undefined) await this.redis.set(this.k(key), canonicalJson(value));
    else await this.redis.set(this.k(key), canonicalJson(value), 'PX', ttl);
  }

  async setIfAbsent(key: string, value: JsonValue, ttlMs?: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    const answer = ttl === undefined
      ? await this.redis.set(this.k(key), canonicalJson(value), 'NX')
      : await this.redis.set(this.k(key), canonicalJson(value), 'PX', ttl, 'NX');
    return answer === 'OK';
  }

  async compareAndSet(key: string, expected: JsonValue | undefined, value: JsonValue, ttlMs?: number): Promise<boolean> {
    if (expected === undefined) return this.setIfAbsent(key, value, ttlMs);
    const ttl = checkTtl(ttlMs);
    const done = await this.redis.eval(COMPARE_AND_SET, 1, this.k(key), canonicalJson(expected), canonicalJson(value), ttl === undefined ? '' : String(ttl));
    return done === 1;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.k(key))) === 1;
  }

  /** Redis expires keys itself. */
  async purgeExpired(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseRedis(this.url);
  }
}

/**
 * Idempotency store in Redis, for several Node-RED instances sharing one gate. One hash per key,
 * changed only by Lua scripts (atomic on the server) using the server's clock, so instances with
 * skewed clocks still agree on leases. Two sorted sets index in-flight and done keys for the counts.
 * Done keys carry Redis's own expiry (PEXPIRE = TTL); in-flight keys expire a while after their lease.
 */
import { randomUUID } from 'crypto';
import type Redis from 'ioredis';
import { PARKED_FOR_RETRY, RETRY_HOLDER_PREFIX } from './gate-rules';
import { canonicalJson, checkHolder, checkKey, checkStoreName, checkTtl, parseJson } from './json';
import { PurgeTimer } from './purge';
import { acquireRedis, DEFAULT_KEY_PREFIX, releaseRedis } from './redis-client';
import type { AcquireResult, CommitOutcome, GateRecord, IdempotencyStore, JsonValue, ParkOutcome, ReleaseOutcome, StoreOptions } from './types';

/** How long a lapsed in-flight hash outlives its lease, so a retry still counts its attempts. */
const IN_FLIGHT_GRACE_MS = 24 * 3600_000;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const LIVE = `local function live(state, lease, expires)
  if state == 'done' then return expires == false or tonumber(expires) > now end
  if state == 'in-flight' then return tonumber(lease) > now end
  return false
end`;

// KEYS: record, in-flight index, done index. ARGV: token, leaseMs, key, holder ('' = none)
// The holder takes its own in-flight key again, and a retry (retry:<id>) a key parked for one (see takesAgain in gate-rules.ts).
const ACQUIRE = `${NOW}
${LIVE}
local h = redis.call('HMGET', KEYS[1], 'state', 'leaseUntil', 'expiresAt', 'attempts', 'holder')
local takesAgain = ARGV[4] ~= '' and h[1] == 'in-flight'
  and (h[5] == ARGV[4] or (h[5] == '${PARKED_FOR_RETRY}' and string.sub(ARGV[4], 1, ${RETRY_HOLDER_PREFIX.length}) == '${RETRY_HOLDER_PREFIX}'))
if h[1] and live(h[1], h[2], h[3]) and not takesAgain then return {h[1] == 'done' and 'done' or 'in-flight', redis.call('HGETALL', KEYS[1])} end
local attempts = 1
if h[1] == 'in-flight' then attempts = tonumber(h[4]) + 1 end
local lease = now + tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'in-flight', 'token', ARGV[1], 'createdAt', now, 'updatedAt', now, 'leaseUntil', lease, 'attempts', attempts)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'holder', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + ${IN_FLIGHT_GRACE_MS})
redis.call('ZADD', KEYS[2], lease, ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
return {'acquired', redis.call('HGETALL', KEYS[1])}`;

// KEYS: record, in-flight index, done index. ARGV: token ('' = any), result ('' = none), ttlMs, key
const COMMIT = `${NOW}
${LIVE}
local h = redis.call('HMGET', KEYS[1], 'state', 'leaseUntil', 'expiresAt', 'attempts', 'token', 'createdAt')
local isLive = h[1] and live(h[1], h[2], h[3])
if isLive and h[1] == 'done' then return {'already-done', redis.call('HGETALL', KEYS[1])} end
local outcome = 'committed'
if isLive and ARGV[1] ~= '' and h[5] ~= ARGV[1] then outcome = 'stale' end
local expires = now + tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'createdAt', h[6] or now, 'updatedAt', now, 'expiresAt', expires, 'attempts', h[4] or 1)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], expires, ARGV[4])
return {outcome, redis.call('HGETALL', KEYS[1])}`;

// What release and park answer unless the key is live, in flight and held with the token ARGV[1] ('' = any): releaseRule in gate-rules.ts.
const HELD_WITH_TOKEN = `${NOW}
${LIVE}
local h = redis.call('HMGET', KEYS[1], 'state', 'leaseUntil', 'expiresAt', 'token')
if not (h[1] and live(h[1], h[2], h[3])) then return 'not-held' end
if h[1] == 'done' then return 'done' end
if ARGV[1] ~= '' and h[4] ~= ARGV[1] then return 'stale' end`;

// KEYS: record, in-flight index. ARGV: token ('' = any), key
const RELEASE = `${HELD_WITH_TOKEN}
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 'released'`;

// KEYS: record, in-flight index. ARGV: token ('' = any), leaseMs, key
const PARK = `${HELD_WITH_TOKEN}
local lease = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'holder', '${PARKED_FOR_RETRY}', 'leaseUntil', lease, 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + ${IN_FLIGHT_GRACE_MS})
redis.call('ZADD', KEYS[2], lease, ARGV[3])
return 'parked'`;

// KEYS: record, in-flight index. ARGV: token, leaseMs, key
const RENEW = `${NOW}
local h = redis.call('HMGET', KEYS[1], 'state', 'leaseUntil', 'token')
if h[1] ~= 'in-flight' or tonumber(h[2]) <= now or h[3] ~= ARGV[1] then return 0 end
local lease = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'leaseUntil', lease, 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + ${IN_FLIGHT_GRACE_MS})
redis.call('ZADD', KEYS[2], lease, ARGV[3])
return 1`;

// KEYS: record, in-flight index, done index. ARGV: key
const FORGET = `${NOW}
${LIVE}
local h = redis.call('HMGET', KEYS[1], 'state', 'leaseUntil', 'expiresAt')
local wasLive = h[1] and live(h[1], h[2], h[3])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if wasLive then return 1 end
return 0`;

// KEYS: in-flight index, done index
const COUNTS = `${NOW}
return {redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')}`;

// KEYS: in-flight index, done index. ARGV: limit
const PURGE = `${NOW}
local n = 0
for _, index in ipairs(KEYS) do
  local old = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
  if #old > 0 then n = n + redis.call('ZREM', index, unpack(old)) end
end
return n`;

function fromHash(flat: string[]): GateRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  const record: GateRecord = {
    key: '',
    state: h.state as GateRecord['state'],
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
    attempts: Number(h.attempts ?? 1),
  };
  if (h.token) record.token = h.token;
  if (h.holder) record.holder = h.holder;
  if (h.result !== undefined) record.result = parseJson(h.result);
  if (h.leaseUntil !== undefined) record.leaseUntil = Number(h.leaseUntil);
  if (h.expiresAt !== undefined) record.expiresAt = Number(h.expiresAt);
  return record;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind = 'redis' as const;
  readonly name: string;
  private readonly url: string;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly inFlightIndex: string;
  private readonly doneIndex: string;
  private readonly purger: PurgeTimer;
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'redisUrl' | 'keyPrefix' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.redis = acquireRedis(options.redisUrl);
    this.url = options.redisUrl!;
    // The hash tag {…} keeps a gate's keys in one Redis Cluster slot, as multi-key scripts need.
    const base = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}{${this.name}}:gate:`;
    this.prefix = `${base}k:`;
    this.inFlightIndex = `${base}in-flight`;
    this.doneIndex = `${base}done`;
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  private withKey(record: GateRecord, key: string): GateRecord {
    record.key = key;
    return record;
  }

  async acquire(key: string, leaseMs: number, holder?: string): Promise<AcquireResult> {
    const token = randomUUID();
    const [outcome, flat] = await this.redis.eval(ACQUIRE, 3, this.prefix + checkKey(key), this.inFlightIndex, this.doneIndex, token, checkTtl(leaseMs, 'leaseMs') ?? 1, key, checkHolder(holder) ?? '') as [string, string[]];
    const record = this.withKey(fromHash(flat), key);
    if (outcome === 'acquired') return { outcome, token, record };
    return { outcome: outcome as 'done' | 'in-flight', record };
  }

  async commit(key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number): Promise<{ outcome: CommitOutcome; record: GateRecord }> {
    const [outcome, flat] = await this.redis.eval(COMMIT, 3, this.prefix + checkKey(key), this.inFlightIndex, this.doneIndex,
      token ?? '', result === undefined ? '' : canonicalJson(result), checkTtl(ttlMs, 'ttlMs') ?? 1, key) as [CommitOutcome, string[]];
    return { outcome, record: this.withKey(fromHash(flat), key) };
  }

  async release(key: string, token: string | undefined): Promise<ReleaseOutcome> {
    return await this.redis.eval(RELEASE, 2, this.prefix + checkKey(key), this.inFlightIndex, token ?? '', key) as ReleaseOutcome;
  }

  async park(key: string, token: string | undefined, leaseMs: number): Promise<ParkOutcome> {
    return await this.redis.eval(PARK, 2, this.prefix + checkKey(key), this.inFlightIndex, token ?? '', checkTtl(leaseMs, 'leaseMs') ?? 1, key) as ParkOutcome;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 2, this.prefix + checkKey(key), this.inFlightIndex, token, checkTtl(leaseMs, 'leaseMs') ?? 1, key)) === 1;
  }

  async forget(key: string): Promise<boolean> {
    return (await this.redis.eval(FORGET, 3, this.prefix + checkKey(key), this.inFlightIndex, this.doneIndex, key)) === 1;
  }

  async peek(key: string): Promise<GateRecord | undefined> {
    const flat = await this.redis.hgetall(this.prefix + checkKey(key));
    if (!flat.state) return undefined;
    const pairs = Object.entries(flat).flat();
    const record = this.withKey(fromHash(pairs), key);
    const now = Date.now();
    const live = record.state === 'done' ? (record.expiresAt ?? Infinity) > now : (record.leaseUntil ?? 0) > now;
    return live ? record : undefined;
  }

  async counts(): Promise<{ inFlight: number; done: number }> {
    const [inFlight, done] = await this.redis.eval(COUNTS, 2, this.inFlightIndex, this.doneIndex) as [number, number];
    return { inFlight, done };
  }

  /** The hashes expire by themselves; this trims the two indexes. */
  async purgeExpired(limit = 500): Promise<number> {
    if (this.closed) return 0;
    return await this.redis.eval(PURGE, 2, this.inFlightIndex, this.doneIndex, limit) as number;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.purger.stop();
    await releaseRedis(this.url);
  }
}

/**
 * Retry queue in Redis, shared by several Node-RED instances: `claimDue` is one Lua script, so two
 * instances never re-emit the same retry. Layout under the hash tag {name} (one Cluster slot):
 *   q:data   hash id → entry JSON (as written by put)
 *   q:meta   hash id → "state|owner|leaseUntil|updatedAt" (what a claim changes; it wins over the JSON,
 *            so the claim never has to decode and re-encode a message inside Lua, which would mangle it)
 *   q:pending / q:in-flight / q:dead / q:finished   sorted sets (next attempt / lease end / update time)
 *   q:all    sorted set by first failure, the order `list` shows
 */
import type Redis from 'ioredis';
import { ValidationError } from '../errors';
import { canonicalJson, checkStoreName } from './json';
import { checkEntry, checkMaxLive, listStates, listWindow } from './queue-rules';
import { acquireRedis, DEFAULT_KEY_PREFIX, releaseRedis } from './redis-client';
import type { QueueCounts, QueueEntry, QueueEntryState, QueueListOptions, RetryQueueStore, StoreOptions } from './types';

const STATE_INDEX = `local idx = {pending = 3, ['in-flight'] = 4, dead = 5, finished = 6}`;

// KEYS: data, meta, pending, in-flight, dead, finished, all. ARGV: id, json, meta, state, score, firstFailedAt, maxLive ('' = none)
const PUT = `${STATE_INDEX}
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[7] ~= '' and not exists and (ARGV[4] == 'pending' or ARGV[4] == 'in-flight') then
  if redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[7]) then return 0 end
end
for i = 3, 6 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[idx[ARGV[4]]], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[7], ARGV[6], ARGV[1])
return 1`;

// KEYS: meta, pending, in-flight. ARGV: now, limit, owner, leaseMs
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local lease = tonumber(ARGV[1]) + tonumber(ARGV[4])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], lease, id)
  redis.call('HSET', KEYS[1], id, 'in-flight|' .. ARGV[3] .. '|' .. string.format('%d', lease) .. '|' .. ARGV[1])
end
return ids`;

// KEYS: data, meta, pending, in-flight, dead, finished, all. ARGV: ids...
const REMOVE = `
local n = 0
for _, id in ipairs(ARGV) do
  n = n + redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  for i = 3, 7 do redis.call('ZREM', KEYS[i], id) end
end
return n`;

function metaOf(e: QueueEntry): string {
  return `${e.state}|${e.owner ?? ''}|${e.leaseUntil ?? ''}|${e.updatedAt}`;
}

function merge(json: string, meta: string | null): QueueEntry {
  const entry = JSON.parse(json) as QueueEntry;
  if (meta) {
    const [state, owner, leaseUntil, updatedAt] = meta.split('|');
    entry.state = state as QueueEntryState;
    if (owner) entry.owner = owner; else delete entry.owner;
    if (leaseUntil) entry.leaseUntil = Number(leaseUntil); else delete entry.leaseUntil;
    entry.updatedAt = Number(updatedAt);
  }
  return entry;
}

export class RedisRetryQueueStore implements RetryQueueStore {
  readonly kind = 'redis' as const;
  readonly name: string;
  private readonly url: string;
  private readonly redis: Redis;
  private readonly keys: { data: string; meta: string; pending: string; inFlight: string; dead: string; finished: string; all: string };
  private closed = false;

  constructor(options: Pick<StoreOptions, 'name' | 'redisUrl' | 'keyPrefix'>) {
    this.name = checkStoreName(options.name);
    this.redis = acquireRedis(options.redisUrl);
    this.url = options.redisUrl!;
    const base = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}{${this.name}}:q:`;
    this.keys = {
      data: `${base}data`, meta: `${base}meta`, pending: `${base}pending`, inFlight: `${base}in-flight`,
      dead: `${base}dead`, finished: `${base}finished`, all: `${base}all`,
    };
  }

  private get allKeys(): string[] {
    const k = this.keys;
    return [k.data, k.meta, k.pending, k.inFlight, k.dead, k.finished, k.all];
  }

  private stateKey(state: QueueEntryState): string {
    return state === 'in-flight' ? this.keys.inFlight : this.keys[state];
  }

  async put(entry: QueueEntry, maxLive?: number): Promise<boolean> {
    checkEntry(entry);
    checkMaxLive(maxLive);
    if (entry.owner?.includes('|')) throw new ValidationError('entry.owner', 'must not contain "|"');
    const score = entry.state === 'pending' ? entry.nextAttemptAt : entry.state === 'in-flight' ? (entry.leaseUntil ?? entry.updatedAt) : entry.updatedAt;
    const ok = await this.redis.eval(PUT, 7, ...this.allKeys, entry.id, canonicalJson(entry), metaOf(entry), entry.state, score, entry.firstFailedAt, maxLive === undefined ? '' : maxLive);
    return ok === 1;
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    const [json, meta] = await Promise.all([this.redis.hget(this.keys.data, id), this.redis.hget(this.keys.meta, id)]);
    return json === null ? undefined : merge(json, meta);
  }

  private async getMany(ids: string[]): Promise<QueueEntry[]> {
    if (ids.length === 0) return [];
    const [jsons, metas] = await Promise.all([this.redis.hmget(this.keys.data, ...ids), this.redis.hmget(this.keys.meta, ...ids)]);
    const out: QueueEntry[] = [];
    jsons.forEach((json, i) => { if (json !== null) out.push(merge(json, metas[i])); });
    return out;
  }

  async claimDue(now: number, limit: number, owner: string, leaseMs: number): Promise<QueueEntry[]> {
    if (owner.includes('|')) throw new ValidationError('owner', 'must not contain "|"');
    const ids = await this.redis.eval(CLAIM, 3, this.keys.meta, this.keys.pending, this.keys.inFlight, now, limit, owner, leaseMs) as string[];
    return this.getMany(ids);
  }

  async nextDueAt(): Promise<number | undefined> {
    // ioredis 6 types a range's stop as a string; with its default (legacy) reply mapping WITHSCORES still
    // answers the flat [member, score] list even over RESP3.
    const first = await this.redis.zrange(this.keys.pending, 0, '0', 'WITHSCORES');
    return first.length === 2 ? Number(first[1]) : undefined;
  }

  async list(options?: QueueListOptions): Promise<QueueEntry[]> {
    const states = listStates(options);
    const { limit, offset } = listWindow(options);
    if (states.length === 4) return this.getMany(await this.redis.zrange(this.keys.all, offset, String(offset + limit - 1)));
    // Walk the first-failure order a chunk at a time, keeping the wanted states.
    const out: QueueEntry[] = [];
    let skipped = 0;
    for (let start = 0; out.length < limit; start += 500) {
      const ids = await this.redis.zrange(this.keys.all, start, String(start + 499));
      if (ids.length === 0) break;
      for (const e of await this.getMany(ids)) {
        if (!states.includes(e.state)) continue;
        if (skipped < offset) { skipped++; continue; }
        out.push(e);
        if (out.length === limit) break;
      }
    }
    return out;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.redis.eval(REMOVE, 7, ...this.allKeys, id)) === 1;
  }

  async removeByState(state: QueueEntryState): Promise<number> {
    listStates({ state });
    let n = 0;
    for (;;) {
      const ids = await this.redis.zrange(this.stateKey(state), 0, '499');
      if (ids.length === 0) return n;
      n += await this.redis.eval(REMOVE, 7, ...this.allKeys, ...ids) as number;
    }
  }

  async counts(): Promise<QueueCounts> {
    const [pending, inFlight, dead, finished] = await Promise.all(
      (['pending', 'in-flight', 'dead', 'finished'] as QueueEntryState[]).map((s) => this.redis.zcard(this.stateKey(s))));
    return { pending, inFlight, dead, finished };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseRedis(this.url);
  }
}

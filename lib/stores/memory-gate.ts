/**
 * Idempotency store in process memory, for tests and throwaway flows: bounded by count (least recently
 * used keys dropped first — a dropped done key lets a duplicate through, so size it generously).
 */
import { randomUUID } from 'crypto';
import { LRUCache } from 'lru-cache';
import { acquireRule, commitRule, isLive, parkRule, PARKED_FOR_RETRY, releaseRule } from './gate-rules';
import { checkHolder, checkKey, checkStoreName, checkTtl } from './json';
import { DEFAULT_MAX_ENTRIES } from './memory-kv';
import { PurgeTimer } from './purge';
import type { AcquireResult, CommitOutcome, GateRecord, IdempotencyStore, JsonValue, ParkOutcome, ReleaseOutcome, StoreOptions } from './types';

function copy(record: GateRecord): GateRecord {
  return structuredClone(record);
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly kind = 'memory' as const;
  readonly name: string;
  private readonly records: LRUCache<string, GateRecord>;
  private readonly purger: PurgeTimer;

  constructor(options: Pick<StoreOptions, 'name' | 'maxEntries' | 'purgeIntervalMs'>) {
    this.name = checkStoreName(options.name);
    this.records = new LRUCache<string, GateRecord>({ max: options.maxEntries ?? DEFAULT_MAX_ENTRIES });
    this.purger = new PurgeTimer((limit) => this.purgeExpired(limit), options.purgeIntervalMs);
  }

  async acquire(key: string, leaseMs: number, holder?: string): Promise<AcquireResult> {
    const { result, write } = acquireRule(this.records.get(checkKey(key)), key, Date.now(), checkTtl(leaseMs, 'leaseMs') ?? 1, randomUUID(), checkHolder(holder));
    if (write) this.records.set(key, write);
    return { ...result, record: copy(result.record) } as AcquireResult;
  }

  async commit(key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number): Promise<{ outcome: CommitOutcome; record: GateRecord }> {
    const out = commitRule(this.records.get(checkKey(key)), key, Date.now(), token, result === undefined ? undefined : structuredClone(result), checkTtl(ttlMs, 'ttlMs') ?? 1);
    if (out.write) this.records.set(key, out.write);
    return { outcome: out.outcome, record: copy(out.record) };
  }

  async release(key: string, token: string | undefined): Promise<ReleaseOutcome> {
    const outcome = releaseRule(this.records.get(checkKey(key)), Date.now(), token);
    if (outcome === 'released') this.records.delete(key);
    return outcome;
  }

  async park(key: string, token: string | undefined, leaseMs: number): Promise<ParkOutcome> {
    const { outcome, write } = parkRule(this.records.get(checkKey(key)), Date.now(), token, checkTtl(leaseMs, 'leaseMs') ?? 1);
    if (write) this.records.set(key, write);
    return outcome;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const current = this.records.get(checkKey(key));
    const now = Date.now();
    if (!current || current.state !== 'in-flight' || !isLive(current, now) || current.token !== token) return false;
    this.records.set(key, { ...current, leaseUntil: now + (checkTtl(leaseMs, 'leaseMs') ?? 1), updatedAt: now });
    return true;
  }

  async endLeasesTakenBefore(takenBefore: number, limit = 10_000): Promise<GateRecord[]> {
    const now = Date.now();
    const ended: GateRecord[] = [];
    for (const record of this.records.values()) {
      if (record.state === 'in-flight' && isLive(record, now) && record.updatedAt < takenBefore && record.holder !== PARKED_FOR_RETRY) ended.push(record);
    }
    ended.sort((a, b) => a.updatedAt - b.updatedAt).splice(limit);
    return ended.map((record) => {
      const lapsed = { ...record, leaseUntil: now };
      this.records.set(record.key, lapsed);
      return copy(lapsed);
    });
  }

  async forget(key: string): Promise<boolean> {
    const live = isLive(this.records.get(checkKey(key)), Date.now());
    this.records.delete(key);
    return live;
  }

  async peek(key: string): Promise<GateRecord | undefined> {
    const record = this.records.get(checkKey(key));
    return isLive(record, Date.now()) ? copy(record!) : undefined;
  }

  async counts(): Promise<{ inFlight: number; done: number }> {
    const now = Date.now();
    let inFlight = 0;
    let done = 0;
    for (const record of this.records.values()) {
      if (!isLive(record, now)) continue;
      if (record.state === 'done') done++;
      else inFlight++;
    }
    return { inFlight, done };
  }

  async purgeExpired(limit = 500): Promise<number> {
    const now = Date.now();
    const expired: string[] = [];
    for (const [key, record] of this.records.entries()) {
      if (!isLive(record, now)) expired.push(key);
      if (expired.length >= limit) break;
    }
    for (const key of expired) this.records.delete(key);
    return expired.length;
  }

  async close(): Promise<void> {
    this.purger.stop();
  }
}

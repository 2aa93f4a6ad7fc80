/**
 * The state machine of one idempotency key, shared by the memory and SQLite gate stores (the Redis
 * store runs the same rules in Lua). A key is absent, in flight (held under a lease) or done (until
 * its TTL). An in-flight key whose lease ran out is as good as absent, but remembers its attempts.
 */
import type { AcquireResult, CommitOutcome, GateRecord, JsonValue, ParkOutcome, ReleaseOutcome } from './types';

export function isLive(record: GateRecord | undefined, now: number): boolean {
  if (!record) return false;
  if (record.state === 'done') return record.expiresAt === undefined || record.expiresAt > now;
  return (record.leaseUntil ?? 0) > now;
}

/**
 * The holder of a parked key (see IdempotencyStore.park): its work failed and waits in the retry queue, and
 * the first delivery the queue sends again with that key (holder `retry:<entry id>`) takes it.
 */
export const PARKED_FOR_RETRY = 'retry:*';
export const RETRY_HOLDER_PREFIX = 'retry:';

/** Whether `holder`, asking for the key, takes the in-flight `current` although its lease runs: its own earlier attempt, or a key parked for a retry. */
export function takesAgain(current: GateRecord | undefined, holder: string | undefined): boolean {
  if (holder === undefined || current?.state !== 'in-flight') return false;
  return current.holder === holder || (current.holder === PARKED_FOR_RETRY && holder.startsWith(RETRY_HOLDER_PREFIX));
}

export function acquireRule(current: GateRecord | undefined, key: string, now: number, leaseMs: number, token: string, holder?: string): { result: AcquireResult; write?: GateRecord } {
  if (current && isLive(current, now) && !takesAgain(current, holder)) {
    return { result: current.state === 'done' ? { outcome: 'done', record: current } : { outcome: 'in-flight', record: current } };
  }
  // A holder that died (or its own delivery coming back) leaves an in-flight record: count its attempt.
  const attempts = current && current.state === 'in-flight' ? current.attempts + 1 : 1;
  const record: GateRecord = { key, state: 'in-flight', token, createdAt: now, updatedAt: now, leaseUntil: now + leaseMs, attempts };
  if (holder !== undefined) record.holder = holder;
  return { result: { outcome: 'acquired', token, record }, write: record };
}

export function commitRule(current: GateRecord | undefined, key: string, now: number, token: string | undefined, result: JsonValue | undefined, ttlMs: number): { outcome: CommitOutcome; record: GateRecord; write?: GateRecord } {
  if (current && current.state === 'done' && isLive(current, now)) return { outcome: 'already-done', record: current };
  const stale = token !== undefined && current !== undefined && current.state === 'in-flight' && isLive(current, now) && current.token !== token;
  const record: GateRecord = {
    key,
    state: 'done',
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    expiresAt: now + ttlMs,
    attempts: current?.attempts ?? 1,
  };
  if (result !== undefined) record.result = result;
  return { outcome: stale ? 'stale' : 'committed', record, write: record };
}

export function releaseRule(current: GateRecord | undefined, now: number, token: string | undefined): ReleaseOutcome {
  if (!current || !isLive(current, now)) return 'not-held';
  if (current.state === 'done') return 'done';
  if (token !== undefined && current.token !== token) return 'stale';
  return 'released';
}

/** Parking the key `current` for the retry queue (see IdempotencyStore.park): what it answers, and the record to write when parked. */
export function parkRule(current: GateRecord | undefined, now: number, token: string | undefined, leaseMs: number): { outcome: ParkOutcome; write?: GateRecord } {
  const outcome = releaseRule(current, now, token);
  if (outcome !== 'released') return { outcome };
  return { outcome: 'parked', write: { ...current!, holder: PARKED_FOR_RETRY, leaseUntil: now + leaseMs, updatedAt: now } };
}

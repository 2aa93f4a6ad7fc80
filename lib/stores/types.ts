/**
 * The store contracts every durable piece of the pack uses: a small key/value store with TTL (cursors,
 * last-applied timestamps), the idempotency store behind `idempotency-gate` and the queue store behind
 * `retry-queue`. Three implementations each: memory (lru-cache, throwaway), SQLite (the default, durable
 * across a crash) and Redis (shared by several Node-RED instances). All methods are async because Redis is.
 *
 * Values are JSON: anything `JSON.stringify` keeps. A store never holds a secret — callers strip them.
 */

export type StoreKind = 'memory' | 'sqlite' | 'redis';

export const STORE_KINDS: readonly StoreKind[] = ['memory', 'sqlite', 'redis'];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** How to open a store. One `name` = one SQLite file / one Redis key namespace / one memory map. */
export interface StoreOptions {
  kind: StoreKind;
  /** Logical store name, e.g. `gate-<node id>` or `read-orders-cursor`. Letters, digits, `-`, `_`, `.` only. */
  name: string;
  /** SQLite: directory of the `<name>.sqlite` file (default: Node-RED's user directory, given by the node). */
  directory?: string;
  /** Redis: connection URL, e.g. `redis://127.0.0.1:6379/0`. */
  redisUrl?: string;
  /** Redis: prefix before every key (default `magento-erp:`); tests use a unique one per run. */
  keyPrefix?: string;
  /** Memory: most entries kept (least recently used dropped first). Default 10000. */
  maxEntries?: number;
  /** How often expired entries are purged, a bounded batch at a time (default 60 s; 0 = never). */
  purgeIntervalMs?: number;
}

/** Small durable state with optional TTL (no TTL = kept until deleted). */
export interface KeyValueStore {
  readonly kind: StoreKind;
  readonly name: string;
  get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined>;
  /** Writes the value; resolves once it is durable (SQLite: committed to the WAL; Redis: acknowledged). */
  set(key: string, value: JsonValue, ttlMs?: number): Promise<void>;
  /** Atomic: writes only when the key is absent or expired. Resolves true when it wrote. */
  setIfAbsent(key: string, value: JsonValue, ttlMs?: number): Promise<boolean>;
  /** Atomic: writes only when the stored value deep-equals `expected` (undefined = absent). */
  compareAndSet(key: string, expected: JsonValue | undefined, value: JsonValue, ttlMs?: number): Promise<boolean>;
  /** Resolves true when a live key was removed. */
  delete(key: string): Promise<boolean>;
  /** Removes up to `limit` expired keys now (the periodic purge calls this); resolves with how many. */
  purgeExpired(limit?: number): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Idempotency (idempotency-gate)

export type GateState = 'in-flight' | 'done';

export interface GateRecord {
  key: string;
  state: GateState;
  /** Lease token of the holder while in flight; commit/release with a stale token are refused. */
  token?: string;
  /**
   * The delivery the holder works for, when it names one (a retry-queue entry: `retry:<entry id>`). The
   * same delivery coming back takes the key again while the lease still runs: its earlier attempt is
   * gone (lost when Node-RED stopped, say), since a delivery runs one attempt at a time.
   */
  holder?: string;
  /** Small result stored at commit (e.g. the ERP order id). */
  result?: JsonValue;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** In flight: when the holder is presumed dead and the key becomes free again. */
  leaseUntil?: number;
  /** Done: when the record is forgotten (TTL). */
  expiresAt?: number;
  /** How many times the key was acquired (1 + retries after release or lease expiry). */
  attempts: number;
}

export type AcquireResult =
  | { outcome: 'acquired'; token: string; record: GateRecord }
  | { outcome: 'in-flight'; record: GateRecord }
  | { outcome: 'done'; record: GateRecord };

export type CommitOutcome =
  /** The key is now done with this result. */
  | 'committed'
  /** It was done already: the first result is kept. */
  | 'already-done'
  /**
   * Done now, but our lease had run out and another holder had taken the key: the work behind the gate
   * may run twice (the lease is too short for it). Recorded done anyway, so no third attempt passes.
   */
  | 'stale';

export type ReleaseOutcome = 'released' | 'not-held' | 'stale' | 'done';
export type ParkOutcome = 'parked' | 'not-held' | 'stale' | 'done';

export interface IdempotencyStore {
  readonly kind: StoreKind;
  readonly name: string;
  /**
   * Atomic check-and-mark: a new key (or one whose lease ran out) becomes in flight for `leaseMs` and
   * resolves `acquired` with a fresh token; exactly one of many concurrent callers gets it. With a
   * `holder`, a key in flight for that same holder is taken again (fresh token, lease renewed), and a
   * `retry:<entry id>` holder takes a key parked for the retry queue (see `park`).
   */
  acquire(key: string, leaseMs: number, holder?: string): Promise<AcquireResult>;
  /**
   * Marks the key done for `ttlMs` with a small result. `token` undefined = commit whoever holds it
   * (a commit message that lost its token); an absent key is recorded done too (the work did succeed).
   */
  commit(key: string, token: string | undefined, result: JsonValue | undefined, ttlMs: number): Promise<{ outcome: CommitOutcome; record: GateRecord }>;
  /** Frees an in-flight key so a retry can pass. Never frees a done key (that is `forget`). */
  release(key: string, token: string | undefined): Promise<ReleaseOutcome>;
  /**
   * The work holding `key` (with `token`; undefined = whoever holds it) failed and waits in the retry queue:
   * the key stays in flight `leaseMs` longer, parked (holder `retry:*`). Other messages with the key are held
   * back meanwhile; the first the retry queue sends again (holder `retry:<entry id>`) takes it at once.
   * Answers like release: `parked`, or `not-held` / `stale` / `done` (nothing changed).
   */
  park(key: string, token: string | undefined, leaseMs: number): Promise<ParkOutcome>;
  /** Extends the lease of the current holder. Resolves false when the token no longer holds the key. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Ends the lease of keys taken (or renewed) before `takenBefore` (epoch ms) and still in flight, so the
   * next message with such a key passes at once; resolves those records (lease ended now, at most `limit`,
   * oldest first). For a store only this process uses (memory, SQLite): a message holding a key taken
   * before the process started died with the old process. Absent on shared stores (Redis), where such a
   * key may belong to another live instance. A parked key keeps its lease: its message did not die, it
   * waits in the retry queue, which sends it again.
   */
  endLeasesTakenBefore?(takenBefore: number, limit?: number): Promise<GateRecord[]>;
  /** Removes the key whatever its state, so the same order can be sent again on purpose. */
  forget(key: string): Promise<boolean>;
  peek(key: string): Promise<GateRecord | undefined>;
  /** Live records by state (expired ones not counted). */
  counts(): Promise<{ inFlight: number; done: number }>;
  purgeExpired(limit?: number): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Retry queue (retry-queue)

/**
 * `pending`: waits for `nextAttemptAt`. `in-flight`: re-emitted, outcome not known yet (a failure comes
 * back with `msg.retry.id`; no news before `leaseUntil` = success). `dead`: dead letter, kept with its
 * history. `finished`: delivered (kept for `list` until purged).
 */
export type QueueEntryState = 'pending' | 'in-flight' | 'dead' | 'finished';

export const QUEUE_ENTRY_STATES: readonly QueueEntryState[] = ['pending', 'in-flight', 'dead', 'finished'];

/** One failed attempt as kept in the history (never a secret). */
export interface AttemptRecord {
  attempt: number;
  /** ISO time of the failure. */
  time: string;
  errorClass: string;
  message: string;
  status?: number;
  code?: string;
  retryAfterMs?: number;
  target?: string;
  operation?: string;
  /** ms waited before the next attempt (absent when the entry went dead). */
  delayMs?: number;
}

export interface QueueEntry {
  id: string;
  state: QueueEntryState;
  /** The message as persisted: without req/res/sockets/functions/secrets (see lib/retry/persist.ts). */
  message: { [key: string]: JsonValue };
  /** Attempts made so far (the first failure = 1). */
  attempt: number;
  /** Epoch ms of the first failure. */
  firstFailedAt: number;
  /** Start of the current retry budget: the first failure, or when an operator retried the dead letter. */
  since?: number;
  updatedAt: number;
  /** Epoch ms the next attempt is due (pending) . */
  nextAttemptAt: number;
  /** In flight: until when the outcome is awaited; which process instance emitted it. */
  leaseUntil?: number;
  owner?: string;
  /** `failure.target`, the circuit-breaker key. */
  target?: string;
  /** Idempotency key carried by the message, if any (for `list` and the audit trail). */
  idempotencyKey?: string;
  /** Why it is dead (last error class / "max attempts" / "max age" / "discarded"). */
  reason?: string;
  history: AttemptRecord[];
}

export interface QueueCounts {
  pending: number;
  inFlight: number;
  dead: number;
  finished: number;
}

export interface QueueListOptions {
  state?: QueueEntryState | QueueEntryState[];
  limit?: number;
  offset?: number;
}

/** What a put that also claims a key did: wrote both; nothing, the key being held; nothing, the queue being full. */
export type ClaimedPut = 'written' | 'held' | 'full';

export interface RetryQueueStore {
  readonly kind: StoreKind;
  readonly name: string;
  /**
   * Adds (or replaces, same id) an entry. Refuses a NEW pending/in-flight entry when the live ones
   * (pending + in-flight) already number `maxLive`: resolves false, nothing written. Durable on resolve.
   */
  put(entry: QueueEntry, maxLive?: number): Promise<boolean>;
  get(id: string): Promise<QueueEntry | undefined>;
  /**
   * Atomically moves up to `limit` pending entries due at `now` to in-flight (owner, leaseUntil) and
   * returns them: with Redis, two instances never claim the same entry.
   */
  claimDue(now: number, limit: number, owner: string, leaseMs: number): Promise<QueueEntry[]>;
  /** Earliest `nextAttemptAt` of the pending entries. */
  nextDueAt(): Promise<number | undefined>;
  list(options?: QueueListOptions): Promise<QueueEntry[]>;
  remove(id: string): Promise<boolean>;
  /** Removes every entry in the given state; resolves with how many. */
  removeByState(state: QueueEntryState): Promise<number>;
  counts(): Promise<QueueCounts>;
  close(): Promise<void>;
}

/**
 * What makes a webhook "durably accepted" before the sender hears 2xx:
 *
 * 1. The event (its body as received) is written to a journal (a durable queue store).
 * 2. Then its business key (event type + order key + version, or + idempotency key) is claimed in a
 *    seen-set with a TTL (atomic `setIfAbsent`). The request that claims it owns the event: the same order
 *    event sent again — a retry of one delivery, the event under another delivery id or idempotency key, a
 *    captured request replayed within the timestamp window — is answered as a duplicate and goes no
 *    further, and its journal entry is removed again. The claim records the delivery id, to tell a retry
 *    of one delivery (`by: 'delivery-id'`) from the same event delivered again (`by: 'business-key'`).
 * 3. Only then is 2xx sent and the event emitted. The journal entry is removed once the flow took the
 *    event over; entries still there after a restart are emitted again.
 *
 * Journal first, claim second: a crash between the two leaves an entry that is emitted again at the next
 * start while the sender (who got no answer) sends it again too — one event twice, which the
 * idempotency gate after the node holds back. The other order would lose it: the claim alone survives,
 * and the sender's retry is answered as a duplicate of an event that was never journaled.
 *
 * When a store write fails the entry is taken back and the sender gets 5xx, so its retry is accepted.
 *
 * Where journal and seen-set share one SQLite file (`journalClaimed`, the SQLite store), steps 1 and 2
 * are one transaction: both are written or neither, so there is no order to choose and nothing to take
 * back, and the sender waits for one disk sync instead of two in turn.
 *
 * Events this process accepted are remembered in memory (bounded, for the same TTL), and a repeat
 * arriving while the first is still being stored waits for it: either way it is answered without a
 * store write. Only our own, final claims are remembered — a claim seen held by another request might
 * still be undone if that request fails.
 */
import crypto from 'crypto';
import fs from 'fs';
import { IntegrationError } from '../errors';
import { openKeyValueStore, openRetryQueueStore, SqliteClaimedQueue } from '../stores';
import type { ClaimedPut, JsonValue, KeyValueStore, QueueEntry, RetryQueueStore, StoreKind } from '../stores/types';
import type { WebhookEvent } from './webhook';

/** The part of a durable queue the journal uses. */
export type JournalBackend = Pick<RetryQueueStore, 'put' | 'list' | 'remove'>;
export type SeenBackend = Pick<KeyValueStore, 'get' | 'setIfAbsent' | 'delete'>;

export interface IntakeOptions {
  /** How long delivery ids and business keys are remembered, in ms. */
  dedupeTtlMs: number;
  /** Most events kept in the journal at once; beyond, the sender gets 503 and retries later. */
  maxJournal?: number;
  /** Most accepted events remembered in memory to answer their repeats without a store call (default 10000; 0 = none). */
  recentKeys?: number;
  /** A clean-up write failed (a repeat's journal entry could not be removed; it is replayed after a restart). */
  onCleanupError?: (err: Error) => void;
  /**
   * Where the journal and the seen-set live in one store file (SQLite, see lib/stores/sqlite-claimed-queue.ts):
   * journals `entry` and claims `key` with `claim` in one transaction, both or neither — one disk sync
   * before the answer instead of two in turn.
   */
  journalClaimed?: (entry: QueueEntry, maxJournal: number | undefined, key: string, claim: JsonValue, ttlMs: number) => Promise<ClaimedPut>;
}

/** Where an intake keeps its journal and seen-set (see openIntakeStores). */
export interface IntakeStores {
  seen: KeyValueStore;
  journal: RetryQueueStore;
  /** Both written in one transaction: where they share one file (SQLite). */
  journalClaimed?: IntakeOptions['journalClaimed'];
  /** The claims of an older seen-set file being moved in (SQLite, when that file is there): how many, and why the file is still there when it could not be deleted. */
  adopting?: Promise<{ adopted: number; notRemoved?: string }>;
  close(): Promise<void>;
}

export interface IntakeStoreOptions {
  kind: StoreKind;
  journalName: string;
  seenName: string;
  directory: string;
  redisUrl?: string;
  /** SQLite: where an earlier version kept the seen-set in a file of its own (its unexpired claims are moved in). */
  olderSeenSetFile?: string;
}

/**
 * The journal and the seen-set of a webhook intake. SQLite keeps both in ONE file and writes an event's
 * entry and claim in one transaction (lib/stores/sqlite-claimed-queue.ts); memory and Redis keep two stores.
 */
export function openIntakeStores(options: IntakeStoreOptions): IntakeStores {
  const { kind, journalName, seenName, directory, redisUrl } = options;
  if (kind !== 'sqlite') {
    const seen = openKeyValueStore({ kind, name: seenName, directory, redisUrl });
    const journal = openRetryQueueStore({ kind, name: journalName, directory, redisUrl });
    return { seen, journal, close: () => closeBoth(seen, journal) };
  }
  const claimed = new SqliteClaimedQueue({ name: journalName, directory });
  const older = options.olderSeenSetFile;
  return {
    seen: claimed.claims,
    journal: claimed.queue,
    journalClaimed: (...args) => claimed.putClaimed(...args),
    adopting: older && fs.existsSync(older) ? claimed.adoptClaims(older) : undefined,
    close: () => claimed.close(),
  };
}

async function closeBoth(seen: KeyValueStore, journal: RetryQueueStore): Promise<void> {
  const closed = await Promise.allSettled([seen.close(), journal.close()]);
  const failed = closed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) throw failed.reason;
}

export type DuplicateBy = 'delivery-id' | 'business-key';
export type AcceptOutcome = { outcome: 'accepted'; entryId: string } | { outcome: 'duplicate'; by: DuplicateBy };

/** What a journal entry gives back at replay: the event as emitted, without request objects. */
export interface JournaledEvent extends WebhookEvent {
  receivedAt: string;
}

const JOURNAL_LEASE_MS = 365 * 24 * 3600 * 1000;
const DEFAULT_RECENT_KEYS = 10_000;
/** Journal entry ids: unique per request, also between processes sharing one Redis journal. */
const PROCESS_TAG = crypto.randomBytes(4).toString('hex');
let entrySequence = 0;

/** Business keys claimed for good by this process (→ the delivery that claimed them), until their TTL. */
class RecentClaims {
  private readonly claims = new Map<string, { until: number; deliveryId: string }>();

  constructor(private readonly max: number) {}

  /** The delivery id that claimed `key`, while remembered. */
  holder(key: string, now: number): string | undefined {
    const claim = this.claims.get(key);
    if (claim === undefined) return undefined;
    if (claim.until > now) return claim.deliveryId;
    this.claims.delete(key);
    return undefined;
  }

  add(key: string, until: number, deliveryId: string): void {
    if (this.max <= 0) return;
    this.claims.delete(key);
    this.claims.set(key, { until, deliveryId });
    // Oldest first out: a forgotten key only costs a store round trip.
    if (this.claims.size > this.max) this.claims.delete(this.claims.keys().next().value as string);
  }
}

interface Claim { [key: string]: JsonValue; at: number; event: string; deliveryId: string }

export class WebhookIntake {
  private readonly recent: RecentClaims;
  /** Accepts under way in this process, by business key: a repeat arriving meanwhile waits for the first. */
  private readonly underWay = new Map<string, Promise<AcceptOutcome | undefined>>();
  /** Journal entries this instance sent on (accepted, or gave back with `unfinished`) that the flow has not taken over yet; at most the journal's size. */
  private readonly sentHere = new Set<string>();

  constructor(private readonly seen: SeenBackend, private readonly journal: JournalBackend, private readonly options: IntakeOptions) {
    this.recent = new RecentClaims(options.recentKeys ?? DEFAULT_RECENT_KEYS);
  }

  static businessKey(key: string): string {
    return `event:${key}`;
  }

  async accept(event: WebhookEvent, now: number = Date.now()): Promise<AcceptOutcome> {
    const key = WebhookIntake.businessKey(event.businessKey);
    const known = this.recent.holder(key, now);
    if (known !== undefined) return duplicate(known, event);
    const first = this.underWay.get(key);
    // The first one accepted: a repeat, answered without a store call. It failed or was itself a repeat: ask the store.
    if (first && (await first)?.outcome === 'accepted') return duplicate(this.recent.holder(key, now), event);
    const accepting = this.claimAndJournal(key, event, now);
    const settled = accepting.catch(() => undefined);
    this.underWay.set(key, settled);
    try {
      return await accepting;
    } finally {
      if (this.underWay.get(key) === settled) this.underWay.delete(key);
    }
  }

  private async claimAndJournal(key: string, event: WebhookEvent, now: number): Promise<AcceptOutcome> {
    const entry = journalEntry(event, now);
    const claim: Claim = { at: now, event: event.event, deliveryId: event.deliveryId };
    if (this.options.journalClaimed) return this.journalClaimed(key, event, entry, claim, this.options.journalClaimed);
    let written: boolean;
    try {
      written = await this.journal.put(entry, this.options.maxJournal);
    } catch (err) {
      throw notStored(err);
    }
    if (!written) {
      // Full: a repeat is still answered as one.
      const held = await this.claimOf(key);
      if (held !== undefined) return duplicate(deliveryIdOf(held), event);
      throw this.journalFull();
    }
    let claimed: boolean;
    try {
      claimed = await this.seen.setIfAbsent(key, claim, this.options.dedupeTtlMs);
    } catch (err) {
      // Nothing claimed: take the entry back, so the sender's retry is the one that counts.
      await this.journal.remove(entry.id).catch(() => undefined);
      throw notStored(err);
    }
    if (!claimed) {
      this.forget(entry.id);
      return duplicate(deliveryIdOf(await this.claimOf(key)), event);
    }
    return this.accepted(key, event, entry, now);
  }

  /** Journal and claim in one step: nothing to take back when either cannot be written. */
  private async journalClaimed(key: string, event: WebhookEvent, entry: QueueEntry, claim: Claim, write: NonNullable<IntakeOptions['journalClaimed']>): Promise<AcceptOutcome> {
    let outcome: ClaimedPut;
    try {
      outcome = await write(entry, this.options.maxJournal, key, claim, this.options.dedupeTtlMs);
    } catch (err) {
      throw notStored(err);
    }
    if (outcome === 'held') return duplicate(deliveryIdOf(await this.claimOf(key)), event);
    if (outcome === 'full') throw this.journalFull();
    return this.accepted(key, event, entry, claim.at);
  }

  private accepted(key: string, event: WebhookEvent, entry: QueueEntry, now: number): AcceptOutcome {
    this.recent.add(key, now + this.options.dedupeTtlMs, event.deliveryId);
    this.sentHere.add(entry.id);
    return { outcome: 'accepted', entryId: entry.id };
  }

  private journalFull(): IntegrationError {
    return new IntegrationError('transient', `The webhook journal is full (${this.options.maxJournal} events not yet taken over by the flow)`, { operation: 'webhook.accept', retryAfterMs: 30000 });
  }

  /** The flow took the event over: forget the journal entry. */
  async complete(entryId: string): Promise<void> {
    await this.journal.remove(entryId);
    this.sentHere.delete(entryId);
  }

  /**
   * Events accepted but not yet taken over, oldest first, that this instance has not sent on: after a crash or
   * restart (asked at start), or journaled by another instance sharing the journal (Redis) that never handed
   * them over — it stopped (asked with `receivedBefore`, epoch ms: only those received before then). Not those
   * this instance accepted itself (sent on when accepted: a webhook can arrive before the flows have started and
   * the node asks for these), nor those it gave back before: each given back counts as sent on from here on.
   */
  async unfinished(limit = 1000, receivedBefore = Infinity): Promise<Array<{ entryId: string; event: JournaledEvent }>> {
    const entries = await this.journal.list({ state: ['in-flight', 'pending'], limit });
    const given = entries
      .filter((e) => !this.sentHere.has(e.id) && e.firstFailedAt < receivedBefore)
      .sort((a, b) => a.firstFailedAt - b.firstFailedAt);
    for (const e of given) this.sentHere.add(e.id);
    return given.map((e) => ({ entryId: e.id, event: journaledEvent(e.message) }));
  }

  /** The claim held on `key`, if any (undefined too when it cannot be read). */
  private async claimOf(key: string): Promise<JsonValue | undefined> {
    try {
      return await this.seen.get(key);
    } catch {
      return undefined;
    }
  }

  private forget(entryId: string): void {
    this.journal.remove(entryId).catch((err: Error) => this.options.onCleanupError?.(err));
  }
}

function notStored(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  return new IntegrationError('transient', `The webhook could not be stored durably: ${(err as Error)?.message ?? String(err)}`, { operation: 'webhook.accept', cause: err });
}

/** The delivery that made a claim (undefined for a claim written by an older version: `{at, event}`). */
function deliveryIdOf(claim: JsonValue | undefined): string | undefined {
  return claim && typeof claim === 'object' && !Array.isArray(claim) && typeof claim.deliveryId === 'string' ? claim.deliveryId : undefined;
}

function duplicate(holderDeliveryId: string | undefined, event: WebhookEvent): AcceptOutcome {
  return { outcome: 'duplicate', by: holderDeliveryId === event.deliveryId ? 'delivery-id' : 'business-key' };
}

/** The journal keeps the body as text (earlier versions kept the parsed payload). */
function journaledEvent(message: QueueEntry['message']): JournaledEvent {
  const { body, payload, ...rest } = message as unknown as JournaledEvent;
  return { ...rest, payload: typeof body === 'string' ? JSON.parse(body) : payload };
}

function journalEntry(event: WebhookEvent, now: number): QueueEntry {
  const message: Record<string, JsonValue> = {
    body: event.body ?? JSON.stringify(event.payload),
    event: event.event,
    idempotencyKey: event.idempotencyKey,
    deliveryId: event.deliveryId,
    businessKey: event.businessKey,
    receivedAt: new Date(now).toISOString(),
  };
  if (event.timestamp !== undefined) message.timestamp = event.timestamp;
  return {
    // Unique per request: a repeat writes its own entry (removed again) beside the one it repeats.
    id: `${now.toString(36)}-${PROCESS_TAG}${(++entrySequence).toString(36)}-${event.deliveryId}`.slice(0, 200),
    state: 'in-flight',
    message,
    attempt: 0,
    firstFailedAt: now,
    updatedAt: now,
    nextAttemptAt: now,
    leaseUntil: now + JOURNAL_LEASE_MS,
    owner: 'webhook-in',
    idempotencyKey: event.idempotencyKey,
    history: [],
  };
}

/**
 * What makes a webhook "durably accepted" before the sender hears 2xx:
 *
 * 1. The delivery id is claimed in a seen-set with a TTL (atomic `setIfAbsent`): the sender's retries of
 *    one delivery, and a captured request replayed within the timestamp window, are answered as
 *    duplicates and go no further.
 * 2. The business key (event type + idempotency key) is claimed the same way: the same order event sent
 *    twice under two delivery ids passes once.
 * 3. The event is written to a journal (a durable queue store). Only then is 2xx sent and the event
 *    emitted. The journal entry is removed once the flow took the event over (the next node completed
 *    the message); entries still there after a restart are emitted again.
 *
 * When a store write fails the claims are undone and the sender gets 5xx, so its retry is accepted.
 */
import { IntegrationError } from '../errors';
import type { JsonValue, KeyValueStore, QueueEntry, RetryQueueStore } from '../stores/types';
import type { WebhookEvent } from './webhook';

/** The part of a durable queue the journal uses. */
export type JournalBackend = Pick<RetryQueueStore, 'put' | 'list' | 'remove'>;
export type SeenBackend = Pick<KeyValueStore, 'setIfAbsent' | 'delete'>;

export interface IntakeOptions {
  /** How long delivery ids and business keys are remembered, in ms. */
  dedupeTtlMs: number;
  /** Most events kept in the journal at once; beyond, the sender gets 503 and retries later. */
  maxJournal?: number;
}

export type AcceptOutcome = { outcome: 'accepted'; entryId: string } | { outcome: 'duplicate'; by: 'delivery-id' | 'business-key' };

/** What a journal entry holds: the emitted event, without request objects. */
export interface JournaledEvent extends WebhookEvent {
  receivedAt: string;
}

const JOURNAL_LEASE_MS = 365 * 24 * 3600 * 1000;

export class WebhookIntake {
  constructor(private readonly seen: SeenBackend, private readonly journal: JournalBackend, private readonly options: IntakeOptions) {}

  static deliveryKey(deliveryId: string): string {
    return `delivery:${deliveryId}`;
  }

  static businessKey(key: string): string {
    return `event:${key}`;
  }

  async accept(event: WebhookEvent, now: number = Date.now()): Promise<AcceptOutcome> {
    const ttl = this.options.dedupeTtlMs;
    const deliveryKey = WebhookIntake.deliveryKey(event.deliveryId);
    const businessKey = WebhookIntake.businessKey(event.businessKey);
    const mark: JsonValue = { at: now, event: event.event };
    let claimedDelivery = false;
    let claimedBusiness = false;
    try {
      claimedDelivery = await this.seen.setIfAbsent(deliveryKey, mark, ttl);
      if (!claimedDelivery) return { outcome: 'duplicate', by: 'delivery-id' };
      claimedBusiness = businessKey === deliveryKey ? true : await this.seen.setIfAbsent(businessKey, mark, ttl);
      if (!claimedBusiness) return { outcome: 'duplicate', by: 'business-key' };
      const entry = journalEntry(event, now);
      const written = await this.journal.put(entry, this.options.maxJournal);
      if (!written) {
        throw new IntegrationError('transient', `The webhook journal is full (${this.options.maxJournal} events not yet taken over by the flow)`, { operation: 'webhook.accept', retryAfterMs: 30000 });
      }
      return { outcome: 'accepted', entryId: entry.id };
    } catch (err) {
      // Undo the claims, so the sender's retry is not mistaken for a duplicate of an event we lost.
      await Promise.allSettled([
        claimedDelivery ? this.seen.delete(deliveryKey) : Promise.resolve(false),
        claimedBusiness && businessKey !== deliveryKey ? this.seen.delete(businessKey) : Promise.resolve(false),
      ]);
      if (err instanceof IntegrationError) throw err;
      throw new IntegrationError('transient', `The webhook could not be stored durably: ${(err as Error)?.message ?? String(err)}`, { operation: 'webhook.accept', cause: err });
    }
  }

  /** The flow took the event over: forget the journal entry. */
  async complete(entryId: string): Promise<void> {
    await this.journal.remove(entryId);
  }

  /** Events accepted but not yet taken over (after a crash or restart), oldest first. */
  async unfinished(limit = 1000): Promise<Array<{ entryId: string; event: JournaledEvent }>> {
    const entries = await this.journal.list({ state: ['in-flight', 'pending'], limit });
    return entries
      .sort((a, b) => a.firstFailedAt - b.firstFailedAt)
      .map((e) => ({ entryId: e.id, event: e.message as unknown as JournaledEvent }));
  }
}

function journalEntry(event: WebhookEvent, now: number): QueueEntry {
  const message: JournaledEvent = { ...event, receivedAt: new Date(now).toISOString() };
  return {
    // The delivery id is unique among live entries (claimed above); the time keeps ids apart after the TTL.
    id: `${now.toString(36)}-${event.deliveryId}`.slice(0, 200),
    state: 'in-flight',
    message: JSON.parse(JSON.stringify(message)) as QueueEntry['message'],
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

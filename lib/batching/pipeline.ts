/**
 * The path every ERP → Magento push shares: accept items from many input messages, drop stale ones,
 * coalesce per key, hand each flushed round to a dispatcher (which batches, splits and bisects), then tell
 * each input message what became of its items — so a node can end every message with `done()` or with
 * `done(err)` carrying exactly the items to retry.
 *
 * Rounds are dispatched one after another: two values for one key must never race each other to the store.
 * With `coalesceWhileSending`, a window that ends while a round is still being sent does not queue another
 * round behind it: its entries keep coalescing until the round has settled and then go as one round. They
 * could not have been sent any sooner, and an ERP that sends the same SKU again meanwhile costs nothing more.
 */
import { IntegrationError } from '../errors';
import { Coalescer, Coalesced } from './coalescer';
import { TimestampGuard } from './timestamps';
import { BatchReport, DeliveredItem } from './deliver';

export interface PushEntry<T> {
  /** The input message the item came with (any id the caller chooses). */
  ticket: string;
  /** Position of the item in that message's payload. */
  index: number;
  /** What the store keeps once: e.g. `sku\u0000source`. */
  key: string;
  value: T;
  /** ERP timestamp in ms. */
  timestamp?: number;
}

export type ResultOutcome = 'ok' | 'rejected' | 'failed' | 'stale' | 'invalid';

export interface EntryResult<T> {
  entry: PushEntry<T>;
  outcome: ResultOutcome;
  reason?: string;
  details?: Record<string, unknown>;
  /** For `failed`: the typed whole-batch error. */
  error?: IntegrationError;
  /** How many earlier updates for the same key this one replaced. */
  superseded?: number;
}

export interface PipelineBatch<T> {
  results: EntryResult<T>[];
  /** HTTP calls spent on this batch. */
  calls: number;
  error?: IntegrationError;
  /** Extra facts for the result message (mode, bulk uuid, endpoint…). */
  info?: Record<string, unknown>;
}

export type Reporter<T> = (batch: PipelineBatch<T>) => void;

/** Sends one round; must report every entry exactly once (in any number of batches) before resolving. */
export type Dispatcher<T> = (entries: PushEntry<T>[], report: Reporter<T>) => Promise<void>;

export interface TicketSettlement<T> {
  ticket: string;
  /** Items whose batch failed as a whole: what to retry. */
  failed: EntryResult<T>[];
  /** The error of the first failed item (what `done(err)` reports). */
  error?: IntegrationError;
}

export interface PipelineOptions<T> {
  windowMs: number;
  maxBuffered?: number;
  /** Keep coalescing while a round is in flight instead of queueing one round per window (see above). */
  coalesceWhileSending?: boolean;
  guard?: TimestampGuard;
  dispatch: Dispatcher<T>;
  onBatch: (batch: PipelineBatch<T>) => void;
  onTicketSettled: (settlement: TicketSettlement<T>) => void;
  /** Called when a dispatcher throws instead of reporting (a bug or a lost connection mid-way). */
  toError?: (err: unknown) => IntegrationError;
}

interface Ticket<T> {
  pending: number;
  failed: EntryResult<T>[];
}

export class PushPipeline<T> {
  private readonly coalescer: Coalescer<PushEntry<T>>;
  private readonly tickets = new Map<string, Ticket<T>>();
  private submitChain: Promise<unknown> = Promise.resolve();
  private roundChain: Promise<void> = Promise.resolve();
  private rounds = 0;
  private closed = false;

  constructor(private readonly options: PipelineOptions<T>) {
    this.coalescer = new Coalescer<PushEntry<T>>({
      windowMs: options.windowMs,
      maxEntries: options.maxBuffered,
      onFlush: (entries) => this.enqueueRound(entries),
      canFlush: options.coalesceWhileSending ? () => this.rounds === 0 : undefined,
    });
  }

  /** Entries waiting in the coalescing window. */
  get buffered(): number {
    return this.coalescer.size;
  }

  /** Rounds flushed and not yet settled. */
  get inFlight(): number {
    return this.rounds;
  }

  /** Input messages not yet settled. */
  get openTickets(): number {
    return this.tickets.size;
  }

  /**
   * Accepts the valid items of one input message. Resolves with the ones refused as stale (already
   * settled for the ticket); the rest settle later through onTicketSettled. Submissions are applied in
   * call order, so "latest wins" means latest received.
   */
  submit(ticket: string, entries: PushEntry<T>[]): Promise<EntryResult<T>[]> {
    if (this.closed) return Promise.reject(new Error('pipeline closed'));
    const run = this.submitChain.then(() => this.accept(ticket, entries));
    this.submitChain = run.catch(() => undefined);
    return run;
  }

  private async accept(ticket: string, entries: PushEntry<T>[]): Promise<EntryResult<T>[]> {
    const record: Ticket<T> = this.tickets.get(ticket) ?? { pending: 0, failed: [] };
    this.tickets.set(ticket, record);
    // Held while accepting: a round flushed meanwhile must not settle the ticket half-way through.
    record.pending++;
    const stale: EntryResult<T>[] = [];
    for (const entry of entries) {
      const verdict = this.options.guard ? await this.options.guard.check(entry.key, entry.timestamp) : { stale: false };
      if (verdict.stale) {
        stale.push({
          entry, outcome: 'stale',
          reason: `older than the update ${verdict.source === 'applied' ? 'already applied' : 'in flight'} (${new Date(verdict.newer as number).toISOString()})`,
          details: { newer: verdict.newer, source: verdict.source },
        });
        continue;
      }
      const added = this.coalescer.add(entry.key, entry, entry.timestamp);
      if (!added.accepted) {
        stale.push({
          entry, outcome: 'stale',
          reason: `older than the update waiting for the same key (${new Date(added.current.timestamp as number).toISOString()})`,
          details: { newer: added.current.timestamp, source: 'waiting' },
        });
        continue;
      }
      record.pending++;
      this.options.guard?.reserve(entry.key, entry.timestamp);
    }
    record.pending--;
    this.settleIfDone(ticket);
    return stale;
  }

  /** Sends what waits now; resolves when it and everything sent before has settled. */
  async flush(): Promise<void> {
    await this.submitChain;
    this.coalescer.flush();
    await this.roundChain;
  }

  /** Flushes and waits; later submits are refused. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.coalescer.close();
  }

  private enqueueRound(batch: Coalesced<PushEntry<T>>[]): void {
    this.rounds++;
    this.roundChain = this.roundChain.then(() => this.runRound(batch)).finally(() => {
      this.rounds--;
      if (this.rounds === 0) this.coalescer.flushIfDue();
    });
  }

  private async runRound(coalesced: Coalesced<PushEntry<T>>[]): Promise<void> {
    const superseded = new Map<PushEntry<T>, PushEntry<T>[]>();
    const entries = coalesced.map((c) => {
      if (c.superseded.length) superseded.set(c.value, c.superseded);
      return c.value;
    });
    const unreported = new Set(entries);
    const settling: Promise<void>[] = [];
    const report: Reporter<T> = (batch) => {
      for (const r of batch.results) {
        unreported.delete(r.entry);
        const older = superseded.get(r.entry);
        if (older) r.superseded = older.length;
      }
      this.options.onBatch(batch);
      for (const r of batch.results) settling.push(this.settleEntry(r, superseded.get(r.entry) ?? []));
    };
    try {
      await this.options.dispatch(entries, report);
    } catch (raw) {
      const error = (this.options.toError ?? toIntegrationError)(raw);
      if (unreported.size) {
        report({
          results: Array.from(unreported, (entry) => ({ entry, outcome: 'failed' as const, reason: error.message, error })),
          calls: 0,
          error,
        });
      }
      await Promise.all(settling);
      return;
    }
    if (unreported.size) {
      const error = new IntegrationError('permanent', 'dispatcher left items without an outcome');
      report({ results: Array.from(unreported, (entry) => ({ entry, outcome: 'failed' as const, reason: error.message, error })), calls: 0, error });
    }
    await Promise.all(settling);
  }

  /** The applied timestamp is durable before the message is done, so a restart still refuses older updates. */
  private async settleEntry(result: EntryResult<T>, older: PushEntry<T>[]): Promise<void> {
    const guard = this.options.guard;
    if (guard) {
      // A failed write only weakens the stale check; it must not fail the message whose item was applied.
      await guard.settle(result.entry.key, result.entry.timestamp, result.outcome === 'ok').catch(() => undefined);
      for (const e of older) await guard.settle(e.key, e.timestamp, false).catch(() => undefined);
    }
    this.release(result.entry.ticket, result.outcome === 'failed' ? result : undefined);
    // A replaced value is done: the newer one carries the intent (and its own message retries it).
    for (const e of older) this.release(e.ticket);
  }

  private release(ticket: string, failed?: EntryResult<T>): void {
    const record = this.tickets.get(ticket);
    if (!record) return;
    record.pending--;
    if (failed) record.failed.push(failed);
    this.settleIfDone(ticket);
  }

  private settleIfDone(ticket: string): void {
    const record = this.tickets.get(ticket);
    if (!record || record.pending > 0) return;
    this.tickets.delete(ticket);
    this.options.onTicketSettled({ ticket, failed: record.failed, error: record.failed[0]?.error });
  }
}

function toIntegrationError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  return new IntegrationError('permanent', err instanceof Error ? err.message : String(err), { cause: err });
}

function fromDelivered<T>(d: DeliveredItem<PushEntry<T>>): EntryResult<T> {
  const r: EntryResult<T> = { entry: d.item, outcome: d.outcome };
  if (d.reason !== undefined) r.reason = d.reason;
  if (d.details !== undefined) r.details = d.details;
  if (d.error !== undefined) r.error = d.error;
  return r;
}

/** Turns what deliverInBatches reports for a batch of entries into what a Reporter takes. */
export function fromBatchReport<T>(rep: BatchReport<PushEntry<T>>, info: Record<string, unknown> = {}, extraCalls = 0): PipelineBatch<T> {
  const results = rep.items.map(fromDelivered);
  const batch: PipelineBatch<T> = { results, calls: rep.calls + extraCalls, info: { ...info, ...rep.info } };
  const error = rep.error ?? results.find((r) => r.error)?.error;
  if (error) batch.error = error;
  return batch;
}

/**
 * What every ERP → Magento pusher over a PushPipeline does the same way (InventoryPush, PricePush): check
 * each item of a message, answer the invalid and stale ones at once, coalesce the rest, and turn each sent
 * batch into one result. A pusher says only how an item is checked and keyed, what its result lines and
 * results carry, and how a round goes to the store (`dispatch`).
 */
import { FailureInfo, IntegrationError } from '../errors';
import { MagentoClient } from '../magento/types';
import { LimitMemory, limitMemoryFor } from './limits';
import { Pusher } from './message-flow';
import { EntryResult, PipelineBatch, PushEntry, PushPipeline, Reporter, TicketSettlement } from './pipeline';
import { PushCounts, PushStatus, ResultItemBase, resultLine, summarize } from './result';
import { itemsOf } from './tickets';
import { TimestampBackend, TimestampGuard } from './timestamps';

export interface PushHooks<R, T> {
  /** One call per batch; `tickets` are the input messages the batch holds items of. */
  onResult: (result: R, tickets: string[]) => void;
  onTicketSettled: (settlement: TicketSettlement<T>) => void;
  /** Maps a ticket to the input message id shown on result lines (when a batch mixes messages). */
  msgidOf?: (ticket: string) => string | undefined;
}

export interface PushDeps {
  /** Durable map for the last applied ERP timestamp per key (a KeyValueStore). */
  timestamps?: TimestampBackend;
  /** Key prefix in that store (e.g. the store-config name). */
  timestampPrefix?: string;
  limits?: LimitMemory;
}

/** The settings every pusher has. */
export interface PusherOptions {
  /** Items per request; 0 takes the store config's input limit. */
  batchSize: number;
  windowMs: number;
  maxBuffered: number;
}

/** The part of a result message's payload every pusher sends. */
export interface PushResultBase<L> {
  status: PushStatus;
  counts: PushCounts;
  items: L[];
  /** HTTP calls spent (look-ups, sends, splits, bisects, bulk polls). */
  calls: number;
  /** The whole-batch failure, when there was one. */
  error?: FailureInfo;
}

/** Checks and normalises one item of a message. */
export type ItemCheck<T> = (raw: unknown) => { ok: true; value: T } | { ok: false; error: IntegrationError };

export abstract class PipelinePusher<
  T extends { timestamp?: number },
  O extends PusherOptions,
  L extends ResultItemBase,
  R extends PushResultBase<L>,
> implements Pusher<R> {
  protected readonly limits: LimitMemory;
  private readonly pipeline: PushPipeline<T>;

  /** `kind` names the pushed thing in the timestamp store's keys (`stock`, `price`). */
  protected constructor(
    kind: string,
    protected readonly client: MagentoClient,
    readonly options: O,
    protected readonly hooks: PushHooks<R, T>,
    deps: PushDeps,
  ) {
    this.limits = deps.limits ?? limitMemoryFor(client);
    this.pipeline = new PushPipeline<T>({
      windowMs: options.windowMs,
      maxBuffered: options.maxBuffered,
      // A round may last seconds (an async bulk is applied later by Magento's consumers): what arrives
      // meanwhile coalesces per key and goes as one round after it, not as one round per window.
      coalesceWhileSending: true,
      guard: new TimestampGuard(deps.timestamps, `${kind}:${deps.timestampPrefix ?? client.settings.name ?? ''}:`),
      dispatch: (entries, report) => this.dispatch(entries, report),
      onBatch: (batch) => this.emit(batch),
      onTicketSettled: (s) => this.hooks.onTicketSettled(s),
    });
  }

  get buffered(): number {
    return this.pipeline.buffered;
  }

  get openTickets(): number {
    return this.pipeline.openTickets;
  }

  /**
   * Takes one input message's payload (an item or an array). Invalid and stale items are answered at
   * once in the returned result (undefined when there are none); the rest settle through the hooks.
   */
  async accept(ticket: string, payload: unknown): Promise<R | undefined> {
    const { items } = itemsOf(payload);
    const check = await this.itemCheck();
    const refused: L[] = [];
    const entries: PushEntry<T>[] = [];
    items.forEach((raw, index) => {
      const checked = check(raw);
      if (!checked.ok) {
        const r = raw && typeof raw === 'object' ? raw as Record<string, unknown> : {};
        refused.push({ index, outcome: 'invalid', reason: checked.error.message, field: checked.error.field, ...this.invalidLineFields(r) } as L);
        return;
      }
      entries.push({ ticket, index, key: this.keyOf(checked.value), value: checked.value, timestamp: checked.value.timestamp });
    });
    const stale = await this.pipeline.submit(ticket, entries);
    for (const s of stale) refused.push(this.line(s));
    if (!refused.length) return undefined;
    refused.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return this.result({ ...summarize(refused), items: refused, calls: 0 });
  }

  /** Sends what waits in the coalescing window; resolves when everything sent so far has settled. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }

  /** Items per synchronous request as configured: the node's, else the store config's input limit. */
  protected configuredBatchSize(): number {
    return this.options.batchSize > 0 ? this.options.batchSize : this.client.settings.limits?.maxItemsPerRequest ?? 20;
  }

  /** Batches in flight at once. */
  protected concurrency(): number {
    return Math.max(1, this.client.settings.maxConcurrency || 4);
  }

  /** How the items of one message are checked (looked up once per message, e.g. the store's sources). */
  protected abstract itemCheck(): Promise<ItemCheck<T>>;

  /** What the store keeps once: the coalescing and stale-check key. */
  protected abstract keyOf(value: T): string;

  /** What an invalid item's result line says about it besides index, reason and field. */
  protected abstract invalidLineFields(raw: Record<string, unknown>): Partial<L>;

  /** What a result line says about a checked item besides outcome and reason. */
  protected abstract lineFields(value: T): Partial<L>;

  /** A result for items refused on arrival (no `batch`) or for one sent batch. */
  protected abstract result(base: PushResultBase<L>, batch?: PipelineBatch<T>): R;

  /** Sends one round to the store; must report every entry exactly once before resolving. */
  protected abstract dispatch(entries: PushEntry<T>[], report: Reporter<T>): Promise<void>;

  private line(r: EntryResult<T>): L {
    return { ...resultLine(r, this.hooks.msgidOf), ...this.lineFields(r.entry.value) } as L;
  }

  private emit(batch: PipelineBatch<T>): void {
    const items = batch.results.map((r) => this.line(r));
    const result = this.result({ ...summarize(items), items, calls: batch.calls }, batch);
    if (batch.error) result.error = batch.error.toJSON();
    this.hooks.onResult(result, Array.from(new Set(batch.results.map((r) => r.entry.ticket))));
  }
}

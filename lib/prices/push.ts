/**
 * Pushes ERP prices to Magento: base, special (with a date window) and tier prices, each type to its own
 * endpoint, batched to the store's input limit. Magento's 200-with-failures answer becomes per-item
 * rejections; a failure that names no item makes the batch bisect until it does.
 */
import { FailureInfo, IntegrationError, ValidationError } from '../errors';
import { MagentoClient } from '../magento/types';
import {
  itemsOf, BatchReport, Dispatcher, EntryResult, LimitMemory, PipelineBatch, PushEntry, PushPipeline, PushCounts, PushStatus,
  ResultItemBase, SendOutcome, TicketSettlement, TimestampBackend, TimestampGuard, batchLimit, deliverInBatches,
  fromBatchReport, limitMemoryFor, resultLine, summarize,
} from '../batching';
import { mapPriceFailures } from './failures';
import { DEFAULT_PRICE_OPTIONS, PRICE_ENDPOINTS, PRICE_TYPES, PriceOptions, PriceType, PriceUpdate } from './types';
import { priceKey, validatePriceUpdate } from './validate';

export interface PriceResultItem extends ResultItemBase {
  sku?: string;
  type?: PriceType;
  price?: number;
  store_id?: number;
  website_id?: number;
  customer_group?: string;
  quantity?: number;
  price_from?: string;
  price_to?: string;
}

export interface PriceResult {
  status: PushStatus;
  counts: PushCounts;
  items: PriceResultItem[];
  calls: number;
  /** The price type of the batch (absent on input reports, which may mix types). */
  type?: PriceType;
  phase: 'input' | 'send';
  error?: FailureInfo;
}

export interface PricePushHooks {
  onResult: (result: PriceResult, tickets: string[]) => void;
  onTicketSettled: (settlement: TicketSettlement<PriceUpdate>) => void;
  msgidOf?: (ticket: string) => string | undefined;
}

export interface PricePushDeps {
  timestamps?: TimestampBackend;
  timestampPrefix?: string;
  limits?: LimitMemory;
}

/** Thrown inside a batch when Magento reported a failure naming none of its items: the batch is bisected. */
class UnattributedFailure extends ValidationError {
  constructor(reasons: string[]) {
    super('prices', `Magento reported failures naming no item: ${reasons.join('; ')}`);
  }
}

export class PricePush {
  readonly options: PriceOptions;
  private readonly pipeline: PushPipeline<PriceUpdate>;
  private readonly limits: LimitMemory;

  constructor(private readonly client: MagentoClient, options: Partial<PriceOptions>, private readonly hooks: PricePushHooks, deps: PricePushDeps = {}) {
    this.options = { ...DEFAULT_PRICE_OPTIONS, ...options };
    this.limits = deps.limits ?? limitMemoryFor(client);
    const guard = new TimestampGuard(deps.timestamps, `price:${deps.timestampPrefix ?? client.settings.name ?? ''}:`);
    this.pipeline = new PushPipeline<PriceUpdate>({
      windowMs: this.options.windowMs,
      maxBuffered: this.options.maxBuffered,
      // What arrives while a round is being sent coalesces per SKU/store/type and goes as one round after it.
      coalesceWhileSending: true,
      guard,
      dispatch: this.dispatcher(),
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

  async accept(ticket: string, payload: unknown): Promise<PriceResult | undefined> {
    const { items } = itemsOf(payload);
    const refused: PriceResultItem[] = [];
    const entries: PushEntry<PriceUpdate>[] = [];
    items.forEach((raw, index) => {
      const checked = validatePriceUpdate(raw, this.options);
      if (!checked.ok) {
        const line: PriceResultItem = { index, outcome: 'invalid', reason: checked.error.message, field: checked.error.field };
        const r = raw && typeof raw === 'object' ? raw as Record<string, unknown> : {};
        if (typeof r.sku === 'string') line.sku = r.sku;
        refused.push(line);
        return;
      }
      entries.push({ ticket, index, key: priceKey(checked.value), value: checked.value, timestamp: checked.value.timestamp });
    });
    const stale = await this.pipeline.submit(ticket, entries);
    for (const s of stale) refused.push(this.line(s));
    if (!refused.length) return undefined;
    refused.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const { status, counts } = summarize(refused);
    return { status, counts, items: refused, calls: 0, phase: 'input' };
  }

  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }

  private line(r: EntryResult<PriceUpdate>): PriceResultItem {
    return { ...resultLine(r, this.hooks.msgidOf), type: r.entry.value.type, ...r.entry.value.body };
  }

  private emit(batch: PipelineBatch<PriceUpdate>): void {
    const items = batch.results.map((r) => this.line(r));
    const { status, counts } = summarize(items);
    const result: PriceResult = { status, counts, items, calls: batch.calls, phase: 'send' };
    if (typeof batch.info?.type === 'string') result.type = batch.info.type as PriceType;
    if (batch.error) result.error = batch.error.toJSON();
    this.hooks.onResult(result, Array.from(new Set(batch.results.map((r) => r.entry.ticket))));
  }

  private dispatcher(): Dispatcher<PriceUpdate> {
    return async (entries, report) => {
      const concurrency = Math.max(1, this.client.settings.maxConcurrency || 4);
      const configured = () => this.options.batchSize > 0 ? this.options.batchSize : this.client.settings.limits?.maxItemsPerRequest ?? 20;
      for (const type of PRICE_TYPES) {
        const ofType = entries.filter((e) => e.value.type === type);
        if (!ofType.length) continue;
        const endpoint = PRICE_ENDPOINTS[type];
        await deliverInBatches(ofType, {
          send: (batch) => this.send(type, batch),
          limit: batchLimit(this.limits, endpoint.operation, configured),
          concurrency,
          onBatch: (rep: BatchReport<PushEntry<PriceUpdate>>) => report(fromBatchReport(rep, { type })),
        });
      }
    };
  }

  private async send(type: PriceType, batch: PushEntry<PriceUpdate>[]): Promise<SendOutcome> {
    const endpoint = PRICE_ENDPOINTS[type];
    const answer = await this.client.request<unknown>({
      method: 'POST',
      path: endpoint.path,
      body: { prices: batch.map((e) => e.value.body) },
      operation: endpoint.operation,
      entity: batch.length === 1 ? { type: 'product', id: batch[0].value.body.sku } : { type: 'price' },
    });
    if (answer !== null && answer !== undefined && !Array.isArray(answer)) {
      throw new IntegrationError('permanent', `unexpected answer from ${endpoint.path}: expected a list of failed items`, { operation: endpoint.operation });
    }
    const mapped = mapPriceFailures(batch.map((e) => e.value), answer ?? []);
    if (mapped.unattributed.length) {
      // Re-sending is safe (prices are set, not added) and a smaller batch lets Magento's answer name the item.
      if (batch.length > 1) throw new UnattributedFailure(mapped.unattributed);
      return { rejections: [{ index: 0, reason: mapped.unattributed.join('; ') }] };
    }
    return { rejections: mapped.rejections };
  }
}

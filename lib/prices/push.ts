/**
 * Pushes ERP prices to Magento: base, special (with a date window) and tier prices, each type to its own
 * endpoint, batched to the store's input limit. Magento's 200-with-failures answer becomes per-item
 * rejections; a failure that names no item makes the batch bisect until it does.
 */
import { IntegrationError, ValidationError } from '../errors';
import { MagentoClient } from '../magento/types';
import {
  BatchReport, ItemCheck, PipelineBatch, PipelinePusher, PushDeps, PushEntry, PushHooks, PushResultBase, Reporter, ResultItemBase,
  SendOutcome, batchLimit, deliverInBatches, fromBatchReport,
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

export interface PriceResult extends PushResultBase<PriceResultItem> {
  /** The price type of the batch (absent on input reports, which may mix types). */
  type?: PriceType;
  phase: 'input' | 'send';
}

export type PricePushHooks = PushHooks<PriceResult, PriceUpdate>;

export type PricePushDeps = PushDeps;

/** Thrown inside a batch when Magento reported a failure naming none of its items: the batch is bisected. */
class UnattributedFailure extends ValidationError {
  constructor(reasons: string[]) {
    super('prices', `Magento reported failures naming no item: ${reasons.join('; ')}`);
  }
}

export class PricePush extends PipelinePusher<PriceUpdate, PriceOptions, PriceResultItem, PriceResult> {
  constructor(client: MagentoClient, options: Partial<PriceOptions>, hooks: PricePushHooks, deps: PricePushDeps = {}) {
    super('price', client, { ...DEFAULT_PRICE_OPTIONS, ...options }, hooks, deps);
  }

  protected async itemCheck(): Promise<ItemCheck<PriceUpdate>> {
    return (raw) => validatePriceUpdate(raw, this.options);
  }

  protected keyOf(value: PriceUpdate): string {
    return priceKey(value);
  }

  protected invalidLineFields(raw: Record<string, unknown>): Partial<PriceResultItem> {
    return typeof raw.sku === 'string' ? { sku: raw.sku } : {};
  }

  protected lineFields(value: PriceUpdate): Partial<PriceResultItem> {
    return { type: value.type, ...value.body };
  }

  protected result(base: PushResultBase<PriceResultItem>, batch?: PipelineBatch<PriceUpdate>): PriceResult {
    const result: PriceResult = { ...base, phase: batch ? 'send' : 'input' };
    if (typeof batch?.info?.type === 'string') result.type = batch.info.type as PriceType;
    return result;
  }

  protected async dispatch(entries: PushEntry<PriceUpdate>[], report: Reporter<PriceUpdate>): Promise<void> {
    for (const type of PRICE_TYPES) {
      const ofType = entries.filter((e) => e.value.type === type);
      if (!ofType.length) continue;
      await deliverInBatches(ofType, {
        send: (batch) => this.send(type, batch),
        limit: batchLimit(this.limits, PRICE_ENDPOINTS[type].operation, () => this.configuredBatchSize()),
        concurrency: this.concurrency(),
        onBatch: (rep: BatchReport<PushEntry<PriceUpdate>>) => report(fromBatchReport(rep, { type })),
      });
    }
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

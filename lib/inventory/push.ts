/**
 * Pushes ERP stock to Magento: validation, stale drop, coalescing per SKU+source, then one of three ways
 * to the store — MSI source items (batched), legacy stock items (one call per SKU, for stores without MSI),
 * or the async bulk API followed to the last operation.
 */
import { LRUCache } from 'lru-cache';
import { IntegrationError } from '../errors';
import { DEFAULT_INPUT_LIMITS, MagentoClient } from '../magento/types';
import { encodePathSegment } from '../magento/url';
import {
  BatchReport, DeliveredItem, fromBatchReport, ItemCheck, ItemRejection, OPERATION_STATUS, PipelineBatch, PipelinePusher,
  PushDeps, PushEntry, PushHooks, PushResultBase, Reporter, ResultItemBase, SendOutcome, batchLimit, chunk, deliverInBatches,
  followBulk, mapPool, matchOperations, submitBulk,
} from '../batching';
import { ProductCatalog, SourceCatalog, productCatalogFor, sourceCatalogFor } from './catalog';
import { DEFAULT_INVENTORY_OPTIONS, InventoryMode, InventoryOptions, SourceItemUpdate } from './types';
import { stockKey, validateStockUpdate } from './validate';

export const OPERATIONS = Object.freeze({
  sourceItemsSave: 'inventory.source-items.save',
  sourceItemsBulk: 'inventory.source-items.bulk',
  stockItemGet: 'inventory.stock-item.get',
  stockItemSave: 'inventory.stock-item.save',
});

export interface StockResultItem extends ResultItemBase {
  sku?: string;
  source?: string;
  qty?: number;
  status?: 0 | 1;
}

/** One result message's payload. */
export interface StockResult extends PushResultBase<StockResultItem> {
  mode: InventoryMode;
  /** `input` for items refused before batching (invalid, stale), `check` for SKUs the store lacks, `send` otherwise. */
  phase: 'input' | 'check' | 'send';
  bulkUuid?: string;
  /** Set when the async bulk was still open at the deadline. */
  consumers?: 'not-running';
}

export type InventoryPushHooks = PushHooks<StockResult, SourceItemUpdate>;

export interface InventoryPushDeps extends PushDeps {
  sources?: SourceCatalog;
  products?: ProductCatalog;
}

const stockItemIdCaches = new WeakMap<object, LRUCache<string, number>>();

function stockItemIdsFor(client: MagentoClient): LRUCache<string, number> {
  let c = stockItemIdCaches.get(client);
  if (!c) stockItemIdCaches.set(client, (c = new LRUCache<string, number>({ max: 100_000, ttl: 60 * 60_000 })));
  return c;
}

export function toSourceItem(u: SourceItemUpdate): { sku: string; source_code: string; quantity: number; status: 0 | 1 } {
  return { sku: u.sku, source_code: u.source_code, quantity: u.quantity, status: u.status };
}

export class InventoryPush extends PipelinePusher<SourceItemUpdate, InventoryOptions, StockResultItem, StockResult> {
  private readonly sources: SourceCatalog;
  private readonly products: ProductCatalog;

  constructor(client: MagentoClient, options: Partial<InventoryOptions>, hooks: InventoryPushHooks, deps: InventoryPushDeps = {}) {
    super('stock', client, { ...DEFAULT_INVENTORY_OPTIONS, ...options, warehouses: { ...(options.warehouses ?? {}) } }, hooks, deps);
    this.sources = deps.sources ?? sourceCatalogFor(client);
    this.products = deps.products ?? productCatalogFor(client);
  }

  /** Batch size for synchronous requests: the node's, capped by what the store allows or taught us. */
  batchSize(): number {
    return this.limits.get(OPERATIONS.sourceItemsSave, this.configuredBatchSize());
  }

  /** Operations per async bulk request: the node's, else the store config's bulk limit (before what the store taught us). */
  private configuredBulkSize(): number {
    return this.options.bulkSize > 0 ? this.options.bulkSize : this.client.settings.limits?.maxBulkItems ?? DEFAULT_INPUT_LIMITS.maxBulkItems;
  }

  protected async itemCheck(): Promise<ItemCheck<SourceItemUpdate>> {
    const knownSources = this.options.checkSources && this.options.mode !== 'legacy' ? await this.sources.codes() : undefined;
    const ctx = { ...this.options, knownSources };
    return (raw) => validateStockUpdate(raw, ctx);
  }

  protected keyOf(value: SourceItemUpdate): string {
    return stockKey(value);
  }

  protected invalidLineFields(raw: Record<string, unknown>): Partial<StockResultItem> {
    const fields: Partial<StockResultItem> = {};
    if (typeof raw.sku === 'string') fields.sku = raw.sku;
    const src = raw.source ?? raw.source_code;
    if (typeof src === 'string') fields.source = src;
    return fields;
  }

  protected lineFields(value: SourceItemUpdate): Partial<StockResultItem> {
    return { sku: value.sku, source: value.source_code, qty: value.quantity, status: value.status };
  }

  protected result(base: PushResultBase<StockResultItem>, batch?: PipelineBatch<SourceItemUpdate>): StockResult {
    const result: StockResult = {
      ...base, mode: this.options.mode,
      phase: batch ? (batch.info?.phase as StockResult['phase']) ?? 'send' : 'input',
    };
    if (typeof batch?.info?.bulkUuid === 'string') result.bulkUuid = batch.info.bulkUuid;
    if (batch?.info?.consumers === 'not-running') result.consumers = 'not-running';
    return result;
  }

  protected async dispatch(entries: PushEntry<SourceItemUpdate>[], report: Reporter<SourceItemUpdate>): Promise<void> {
    const mode = this.options.mode;
    let send = entries;
    let checkCalls = 0;
    if (this.options.checkSkus && mode !== 'legacy') {
      const lookup = await this.products.missing(entries.map((e) => e.value.sku));
      checkCalls = lookup.calls;
      if (lookup.missing.size) {
        const unknown = entries.filter((e) => lookup.missing.has(e.value.sku.toLowerCase()));
        send = entries.filter((e) => !lookup.missing.has(e.value.sku.toLowerCase()));
        report({
          results: unknown.map((entry) => ({ entry, outcome: 'rejected' as const, reason: `The product with SKU "${entry.value.sku}" does not exist in the store.` })),
          calls: checkCalls,
          info: { phase: 'check' },
        });
        checkCalls = 0;
      }
    }
    if (!send.length) return;
    const concurrency = this.concurrency();
    let first = true;
    const emit = (rep: BatchReport<PushEntry<SourceItemUpdate>>): void => {
      report(fromBatchReport(rep, { mode }, first ? checkCalls : 0));
      first = false;
      const ok = rep.items.filter((d) => d.outcome === 'ok').map((d) => d.item.value.sku);
      if (mode !== 'legacy') this.products.remember(ok);
    };
    if (mode === 'msi') {
      await deliverInBatches(send, {
        send: (batch) => this.saveSourceItems(batch),
        limit: batchLimit(this.limits, OPERATIONS.sourceItemsSave, () => this.configuredBatchSize()),
        concurrency,
        onBatch: emit,
      });
    } else if (mode === 'bulk') {
      // A round holds each SKU+source once, so its bulks cannot race each other and are followed together.
      await deliverInBatches(send, {
        send: (batch) => this.sendBulk(batch),
        limit: batchLimit(this.limits, OPERATIONS.sourceItemsBulk, () => this.configuredBulkSize()),
        concurrency,
        onBatch: emit,
      });
    } else {
      await this.sendLegacy(send, concurrency, emit);
    }
  }

  private async saveSourceItems(batch: PushEntry<SourceItemUpdate>[]): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: '/inventory/source-items',
      body: { sourceItems: batch.map((e) => toSourceItem(e.value)) },
      operation: OPERATIONS.sourceItemsSave,
      entity: batch.length === 1 ? { type: 'source_item', id: batch[0].value.sku } : { type: 'source_item' },
    });
  }

  /** One operation per source item: each item's fate is then read from its own operation status. */
  private async sendBulk(batch: PushEntry<SourceItemUpdate>[]): Promise<SendOutcome> {
    const submitted = await submitBulk(this.client, '/inventory/source-items',
      batch.map((e) => ({ sourceItems: [toSourceItem(e.value)] })), OPERATIONS.sourceItemsBulk);
    const rejections: ItemRejection[] = [];
    const accepted = submitted.requestItems.filter((r) => r.status !== 'rejected');
    submitted.requestItems.forEach((r) => {
      if (r.status === 'rejected') rejections.push({ index: Number(r.id), reason: r.error_message || 'rejected by the bulk API' });
    });
    const info: Record<string, unknown> = { bulkUuid: submitted.bulkUuid };
    if (!accepted.length) return { rejections, info };
    const followed = await followBulk(this.client, submitted.bulkUuid, {
      intervalMs: this.options.bulkPollMs,
      maxIntervalMs: this.options.bulkMaxPollMs,
      deadlineMs: this.options.bulkDeadlineMs,
      expected: accepted.length,
      operation: 'inventory.bulk.detailed-status',
    });
    const byRequest = matchOperations(submitted.requestItems, followed.operations);
    const notRunning = followed.timedOut
      ? new IntegrationError('transient',
        `Magento accepted bulk ${submitted.bulkUuid} but ${followed.open} of ${accepted.length} operations were still open after ${Math.round(this.options.bulkDeadlineMs / 1000)} s: the store's queue consumers are not running (start async.operations.all, e.g. bin/magento queue:consumers:start async.operations.all, or enable cron consumers_runner)`,
        { operation: OPERATIONS.sourceItemsBulk, target: this.client.settings.name, details: { bulkUuid: submitted.bulkUuid, open: followed.open } })
      : undefined;
    if (notRunning) info.consumers = 'not-running';
    for (const r of accepted) {
      const index = Number(r.id);
      const op = byRequest.get(index);
      const status = op ? Number(op.status) : OPERATION_STATUS.OPEN;
      if (status === OPERATION_STATUS.COMPLETE) continue;
      const message = op?.result_message || undefined;
      if (status === OPERATION_STATUS.NOT_RETRIABLY_FAILED || status === OPERATION_STATUS.REJECTED) {
        rejections.push({ index, reason: message ?? 'the bulk operation failed', details: { operationStatus: status } });
      } else if (status === OPERATION_STATUS.RETRIABLY_FAILED) {
        rejections.push({
          index, reason: message ?? 'the bulk operation failed and may be retried',
          error: new IntegrationError('transient', `bulk operation failed (retriable): ${message ?? 'no message'}`, { operation: OPERATIONS.sourceItemsBulk, details: { bulkUuid: submitted.bulkUuid } }),
        });
      } else {
        const error = notRunning ?? new IntegrationError('transient', `bulk operation still open (bulk ${submitted.bulkUuid})`, { operation: OPERATIONS.sourceItemsBulk });
        rejections.push({ index, reason: error.message, error });
      }
    }
    return { rejections, extraCalls: followed.polls, info };
  }

  /** Stores without MSI: one PUT per SKU, the stock item id looked up once and remembered. */
  private async sendLegacy(entries: PushEntry<SourceItemUpdate>[], concurrency: number, emit: (rep: BatchReport<PushEntry<SourceItemUpdate>>) => void): Promise<void> {
    const ids = stockItemIdsFor(this.client);
    const size = this.batchSize();
    let stopped: IntegrationError | undefined;
    let n = 0;
    for (const part of chunk(entries, size)) {
      let calls = 0;
      let batchError: IntegrationError | undefined;
      const items = await mapPool(part, concurrency, async (entry): Promise<DeliveredItem<PushEntry<SourceItemUpdate>>> => {
        if (stopped) return { item: entry, outcome: 'failed', reason: stopped.message, error: stopped };
        const { sku } = entry.value;
        const key = sku.toLowerCase();
        try {
          let itemId = ids.get(key);
          if (itemId === undefined) {
            calls++;
            const stockItem = await this.client.request<{ item_id?: number }>({
              method: 'GET', path: `/stockItems/${encodePathSegment(sku)}`, operation: OPERATIONS.stockItemGet, entity: { type: 'product', id: sku },
            });
            if (!stockItem || typeof stockItem.item_id !== 'number') {
              return { item: entry, outcome: 'rejected', reason: `Magento returned no stock item for SKU "${sku}"` };
            }
            itemId = stockItem.item_id;
            ids.set(key, itemId);
          }
          calls++;
          await this.client.request({
            method: 'PUT',
            path: `/products/${encodePathSegment(sku)}/stockItems/${itemId}`,
            body: { stockItem: { qty: entry.value.quantity, is_in_stock: entry.value.status === 1 } },
            operation: OPERATIONS.stockItemSave,
            entity: { type: 'product', id: sku },
          });
          return { item: entry, outcome: 'ok' };
        } catch (raw) {
          const err = raw instanceof IntegrationError ? raw : new IntegrationError('permanent', raw instanceof Error ? raw.message : String(raw));
          if (err.errorClass === 'validation' || err.errorClass === 'not-found') {
            ids.delete(key);
            return { item: entry, outcome: 'rejected', reason: err.message };
          }
          batchError ??= err;
          stopped ??= err;
          return { item: entry, outcome: 'failed', reason: err.message, error: err };
        }
      });
      n++;
      emit({ batch: n, items, calls, ...(batchError || stopped ? { error: batchError ?? stopped } : {}) });
    }
  }
}

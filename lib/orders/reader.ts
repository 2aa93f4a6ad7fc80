/**
 * Reads the orders changed since a cursor, one page at a time, by keyset on (`updated_at`, `entity_id`).
 *
 * Each page is a fresh query for "after the last order handed on", always `currentPage` 1. Magento's
 * searchCriteria has no OR between groups, but filters inside one group are OR'ed (also across fields),
 * so `(updated_at > t) OR (updated_at = t AND entity_id > id)` is written as two AND'ed groups:
 *   [updated_at gteq t] AND [updated_at gt t OR entity_id gt id].
 * Rows at or before the cursor are still skipped client-side, so a store that ignored the second group
 * costs a little bandwidth instead of duplicates; a full page with nothing new stops the run instead of
 * looping.
 *
 * The generator yields one page and resumes only when the consumer asks for the next, so the consumer
 * hands the orders on and saves the cursor in between: the cursor never runs ahead of what was sent.
 */
import { IntegrationError, ValidationError } from '../errors';
import type { Filter, MagentoClient, SearchCriteria } from '../magento/types';
import { OrderCursor, compareCursor, cursorOf } from './cursor';
import { enrichOrders, wantsEnrichment } from './enrich';
import type { EnrichOptions, MagentoOrder, OrderEnrichment } from './types';

export interface OrderFilters {
  /** Only orders in these statuses (Magento applies it in the same query). */
  statuses?: string[];
  /** Only orders of these store views. */
  storeIds?: number[];
  /** Only orders created at or after this Magento date. */
  createdFrom?: string;
}

export interface ReadOrdersOptions extends OrderFilters {
  /** Orders per page, 1 … the store's maxPageSize. */
  pageSize: number;
  enrich?: EnrichOptions;
  signal?: AbortSignal;
}

export interface OrderPage {
  orders: MagentoOrder[];
  /** Enrichment per entity_id when asked for. */
  enrichment?: Map<number, OrderEnrichment>;
  /** 1-based number of this page in the run. */
  page: number;
  /** Pages the run is expected to take (grows when orders change during the run). */
  pages: number;
  /** Keyset position after this page: save it once the orders are handed on. */
  cursor: OrderCursor;
  /** Orders Magento reported as still to read when this page was asked for (this page included). */
  remaining: number;
}

const ORDER_SORT = [
  { field: 'updated_at', direction: 'ASC' as const },
  { field: 'entity_id', direction: 'ASC' as const },
];

export function validatePageSize(pageSize: unknown, maxPageSize: number, field = 'pageSize'): number {
  const n = Number(pageSize);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(field, `must be a whole number of 1 or more (got "${String(pageSize)}")`);
  if (n > maxPageSize) throw new ValidationError(field, `${n} is above the store's maximum page size ${maxPageSize} (Web API Input Limits)`);
  return n;
}

/** The searchCriteria of the page after `cursor` (or the first page when there is none). */
export function keysetCriteria(cursor: OrderCursor | undefined, options: Pick<ReadOrdersOptions, 'pageSize'> & OrderFilters): SearchCriteria {
  const groups: Filter[][] = [];
  if (cursor) {
    groups.push([{ field: 'updated_at', value: cursor.updatedAt, conditionType: 'gteq' }]);
    if (cursor.entityId > 0) {
      groups.push([
        { field: 'updated_at', value: cursor.updatedAt, conditionType: 'gt' },
        { field: 'entity_id', value: cursor.entityId, conditionType: 'gt' },
      ]);
    }
  }
  if (options.statuses?.length) groups.push([{ field: 'status', value: options.statuses, conditionType: 'in' }]);
  if (options.storeIds?.length) groups.push([{ field: 'store_id', value: options.storeIds, conditionType: 'in' }]);
  if (options.createdFrom) groups.push([{ field: 'created_at', value: options.createdFrom, conditionType: 'gteq' }]);
  return { filterGroups: groups, sortOrders: ORDER_SORT.map((s) => ({ ...s })), pageSize: options.pageSize, currentPage: 1 };
}

/** Pages of orders changed after `start` (all orders when undefined), in (`updated_at`, `entity_id`) order. */
export async function* readOrderPages(client: MagentoClient, start: OrderCursor | undefined, options: ReadOrdersOptions): AsyncGenerator<OrderPage> {
  const pageSize = validatePageSize(options.pageSize, client.settings.limits.maxPageSize);
  let cursor = start;
  let page = 0;
  for (;;) {
    if (options.signal?.aborted) throw new IntegrationError('transient', 'The order read was stopped (flow redeployed or Node-RED stopping)', { code: 'ABORT_ERR', operation: 'orders.list' });
    const result = await client.search<MagentoOrder>('/orders', keysetCriteria(cursor, { ...options, pageSize }), { operation: 'orders.list', signal: options.signal });
    page++;
    const remaining = Number(result.total_count) || 0;
    const fresh: MagentoOrder[] = [];
    let last = cursor;
    for (const order of result.items) {
      const at = cursorOf(order);
      if (last && compareCursor(at, last) <= 0) continue;
      fresh.push(order);
      last = at;
    }
    if (fresh.length === 0) {
      if (result.items.length >= pageSize && remaining > result.items.length) {
        throw new IntegrationError('permanent', `GET /V1/orders answered a full page with no order after the cursor (${cursor?.updatedAt} #${cursor?.entityId}): the store ignores the keyset filter (updated_at gt OR entity_id gt in one filter group)`, {
          target: client.settings.name, operation: 'orders.list', details: { cursor },
        });
      }
      return;
    }
    const pages = page - 1 + Math.max(1, Math.ceil(remaining / pageSize));
    const out: OrderPage = { orders: fresh, page, pages, cursor: last as OrderCursor, remaining };
    if (wantsEnrichment(options.enrich)) out.enrichment = await enrichOrders(client, fresh, options.enrich as EnrichOptions, options.signal);
    yield out;
    cursor = last;
    // A short page, or one holding all that was left, is the last: asking again would only repeat it.
    if (result.items.length < pageSize || result.items.length >= remaining) return;
  }
}

/**
 * The ERP knows an order by its increment id ("000000123"); Magento's write routes want the entity id.
 * One trimmed `GET /V1/orders?searchCriteria` on `increment_id` answers both the id and the item
 * quantities the shipment plan needs.
 */
import { IntegrationError } from '../errors';
import type { MagentoClient } from '../magento/types';
import type { FulfilmentOrder, FulfilmentOrderItem } from './types';

const ITEM_FIELDS = 'item_id,sku,name,product_type,qty_ordered,qty_shipped,qty_invoiced,qty_canceled,qty_refunded,parent_item_id,is_virtual';
export const ORDER_FIELDS = `entity_id,increment_id,store_id,state,status,shipping_amount,base_shipping_amount,shipping_invoiced`;

function num(v: unknown): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

function toItem(raw: Record<string, unknown>): FulfilmentOrderItem {
  return {
    item_id: num(raw.item_id),
    sku: String(raw.sku ?? ''),
    name: raw.name === undefined ? undefined : String(raw.name),
    product_type: raw.product_type === undefined ? undefined : String(raw.product_type),
    qty_ordered: num(raw.qty_ordered),
    qty_shipped: num(raw.qty_shipped),
    qty_invoiced: num(raw.qty_invoiced),
    qty_canceled: num(raw.qty_canceled),
    qty_refunded: num(raw.qty_refunded),
    parent_item_id: raw.parent_item_id === undefined || raw.parent_item_id === null ? null : num(raw.parent_item_id),
    is_virtual: raw.is_virtual === true || Number(raw.is_virtual) === 1,
  };
}

function toOrder(raw: Record<string, unknown>): FulfilmentOrder {
  const items = Array.isArray(raw.items) ? (raw.items as Record<string, unknown>[]).map(toItem) : [];
  const out: FulfilmentOrder = { entity_id: num(raw.entity_id), increment_id: String(raw.increment_id ?? ''), items };
  if (raw.store_id !== undefined) out.store_id = num(raw.store_id);
  if (raw.state !== undefined) out.state = String(raw.state);
  if (raw.status !== undefined) out.status = String(raw.status);
  if (raw.shipping_amount !== undefined) out.shipping_amount = num(raw.shipping_amount);
  if (raw.base_shipping_amount !== undefined) out.base_shipping_amount = num(raw.base_shipping_amount);
  if (raw.shipping_invoiced !== undefined && raw.shipping_invoiced !== null) out.shipping_invoiced = num(raw.shipping_invoiced);
  return out;
}

export interface FindOrderOptions {
  /** Also read the order items (for shipments and invoices). */
  withItems?: boolean;
  /** When increment ids repeat across store views (per-store sequences without prefixes). */
  storeId?: number;
  operation?: string;
  signal?: AbortSignal;
}

/**
 * The order with this increment id. Not found → a `not-found` error naming it; the same increment id in
 * several stores → a `validation` error asking for the store id (Magento's sequences are per store).
 */
export async function findOrder(client: MagentoClient, incrementId: string, options: FindOrderOptions = {}): Promise<FulfilmentOrder> {
  const filterGroups = [[{ field: 'increment_id', value: incrementId, conditionType: 'eq' as const }]];
  if (options.storeId !== undefined) filterGroups.push([{ field: 'store_id', value: String(options.storeId), conditionType: 'eq' as const }]);
  const fields = `items[${ORDER_FIELDS}${options.withItems ? `,items[${ITEM_FIELDS}]` : ''}],total_count`;
  const page = await client.search<Record<string, unknown>>('/orders', { filterGroups, pageSize: 5, currentPage: 1 }, {
    fields, operation: options.operation ?? 'orders.find-by-increment-id', signal: options.signal,
  });
  const matches = page.items.filter((o) => String(o.increment_id) === incrementId);
  if (matches.length === 0) {
    throw new IntegrationError('not-found', `Order "${incrementId}" does not exist in store "${client.settings.name}"`, {
      target: client.settings.name, operation: options.operation ?? 'orders.find-by-increment-id', field: 'order_number', details: { order_number: incrementId },
    });
  }
  if (matches.length > 1) {
    const stores = matches.map((o) => o.store_id).join(', ');
    throw new IntegrationError('validation', `Order number "${incrementId}" exists in several store views (store ids ${stores}) of store "${client.settings.name}": give the store id`, {
      target: client.settings.name, field: 'order_number', details: { order_number: incrementId, store_ids: matches.map((o) => o.store_id) },
    });
  }
  return toOrder(matches[0]);
}

/** Fresh state and status of an order by entity id (after a change). */
export async function orderState(client: MagentoClient, orderId: number): Promise<{ state?: string; status?: string }> {
  const raw = await client.request<Record<string, unknown>>({
    method: 'GET', path: `/orders/${orderId}`, query: { fields: 'entity_id,state,status' },
    operation: 'orders.get-state', entity: { type: 'order', id: orderId },
  });
  return {
    state: raw && raw.state !== undefined ? String(raw.state) : undefined,
    status: raw && raw.status !== undefined ? String(raw.status) : undefined,
  };
}

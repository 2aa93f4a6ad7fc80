/**
 * Invoices and shipments as Magento answers them, built from an order and the quantities they cover.
 * Seeded orders' documents are rebuilt the same way, so they need no storage either.
 */
import { incrementIdFor, invoiceTotals, round2, type Order, type OrderItem } from './order-factory';

/** An invoice (`GET /V1/invoices/{id}`) for `qtys` (order_item_id → qty); the first invoice carries the shipping. */
export function invoiceDocument(order: Order, id: number, qtys: Map<number, number>, includeShipping: boolean, at: string): Order {
  const totals = invoiceTotals(order, qtys, includeShipping);
  return {
    entity_id: id, order_id: order.entity_id, increment_id: incrementIdFor(id, order.store_id), state: 2, can_void_flag: 0,
    created_at: at, updated_at: at, store_id: order.store_id, billing_address_id: order.billing_address_id, email_sent: 0,
    base_currency_code: order.base_currency_code, order_currency_code: order.order_currency_code, store_currency_code: order.store_currency_code,
    global_currency_code: order.global_currency_code, base_to_order_rate: order.base_to_order_rate, ...totals,
    items: (order.items as OrderItem[]).filter((it) => qtys.has(it.item_id)).map((it, n) => ({
      entity_id: id * 100 + n, parent_id: id, order_item_id: it.item_id, product_id: it.product_id, sku: it.sku, name: it.name,
      qty: qtys.get(it.item_id), price: it.price, base_price: it.base_price, row_total: round2(it.row_total * (qtys.get(it.item_id)! / it.qty_ordered)),
      tax_amount: round2(it.tax_amount * (qtys.get(it.item_id)! / it.qty_ordered)), discount_amount: round2(it.discount_amount * (qtys.get(it.item_id)! / it.qty_ordered)),
    })),
    comments: [],
  };
}

/** A shipment (`GET /V1/shipment/{id}`) with its items and tracks. */
export function shipmentDocument(order: Order, id: number, qtys: Map<number, number>, tracks: Array<{ track_number: string; title?: string; carrier_code?: string }> | undefined, at: string): Order {
  let total = 0;
  for (const q of qtys.values()) total += q;
  return {
    entity_id: id, order_id: order.entity_id, increment_id: incrementIdFor(id, order.store_id), created_at: at, updated_at: at,
    store_id: order.store_id, total_qty: total, customer_id: order.customer_id, billing_address_id: order.billing_address_id,
    shipping_address_id: order.billing_address_id + 1, email_sent: null, packages: [],
    items: (order.items as OrderItem[]).filter((it) => qtys.has(it.item_id)).map((it, n) => ({
      entity_id: id * 100 + n, parent_id: id, order_item_id: it.item_id, product_id: it.product_id, sku: it.sku, name: it.name,
      qty: qtys.get(it.item_id), price: it.price, weight: it.weight,
    })),
    tracks: (tracks ?? []).map((t, n) => ({
      entity_id: id * 100 + n, parent_id: id, order_id: order.entity_id, track_number: String(t.track_number), title: t.title ?? null,
      carrier_code: t.carrier_code ?? 'custom', created_at: at, updated_at: at,
    })),
    comments: [],
  };
}

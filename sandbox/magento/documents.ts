/**
 * Invoices and shipments as Magento answers them, built from an order and the quantities they cover.
 * Seeded orders' documents are rebuilt the same way, so they need no storage either.
 */
import { incrementIdFor, round2, type Order, type OrderItem } from './order-factory';

/** What `qty` of an order item adds to an invoice, in both currencies. */
export interface InvoiceLineAmounts {
  row_total: number; base_row_total: number; tax_amount: number; base_tax_amount: number;
  discount_amount: number; base_discount_amount: number; row_total_incl_tax: number; base_row_total_incl_tax: number;
}

/**
 * A share of what is left to invoice on the item, rounded per line; the invoice that completes the item
 * takes the rest, so an item's invoices add up to it exactly (Magento's Invoice\Item::calcRowTotal and the
 * invoice tax/discount collectors). `whole`: the one invoice of a seeded order, covering every line.
 */
export function invoiceLineAmounts(it: OrderItem, qty: number, whole = false): InvoiceLineAmounts {
  const available = it.qty_ordered - it.qty_invoiced - it.qty_canceled;
  const last = whole || qty >= available;
  const part = (total: number, invoiced: number): number => {
    const left = whole ? total : total - invoiced;
    return last ? round2(left) : round2((left / available) * qty);
  };
  const share = whole ? 1 : qty / it.qty_ordered;
  return {
    row_total: part(it.row_total, it.row_invoiced), base_row_total: part(it.base_row_total, it.base_row_invoiced),
    tax_amount: part(it.tax_amount, it.tax_invoiced), base_tax_amount: part(it.base_tax_amount, it.base_tax_invoiced),
    discount_amount: part(it.discount_amount, it.discount_invoiced), base_discount_amount: part(it.base_discount_amount, it.base_discount_invoiced),
    row_total_incl_tax: round2(it.row_total_incl_tax * share), base_row_total_incl_tax: round2(it.base_row_total_incl_tax * share),
  };
}

/**
 * An invoice (`GET /V1/invoices/{id}`) for `qtys` (order_item_id → qty); the first invoice carries the
 * shipping. Its totals are the sums of its rounded lines in each currency, as Magento's collectors make them.
 */
export function invoiceDocument(order: Order, id: number, qtys: Map<number, number>, includeShipping: boolean, at: string, whole = false): Order {
  const items: Order[] = [];
  let subtotal = 0; let baseSubtotal = 0; let tax = 0; let baseTax = 0; let disc = 0; let baseDisc = 0; let totalQty = 0;
  let subtotalIncl = 0; let baseSubtotalIncl = 0;
  for (const it of order.items as OrderItem[]) {
    const qty = qtys.get(it.item_id);
    if (qty === undefined) continue;
    const a = invoiceLineAmounts(it, qty, whole);
    items.push({
      entity_id: id * 100 + items.length, parent_id: id, order_item_id: it.item_id, product_id: it.product_id, sku: it.sku, name: it.name, qty,
      price: it.price, base_price: it.base_price, price_incl_tax: it.price_incl_tax, base_price_incl_tax: it.base_price_incl_tax, ...a,
    });
    // Children of a configurable carry no amounts and are not counted twice.
    if (it.parent_item_id) continue;
    subtotal += a.row_total; baseSubtotal += a.base_row_total; tax += a.tax_amount; baseTax += a.base_tax_amount;
    disc += a.discount_amount; baseDisc += a.base_discount_amount; subtotalIncl += a.row_total_incl_tax; baseSubtotalIncl += a.base_row_total_incl_tax;
    totalQty += qty;
  }
  const ship = includeShipping ? order.shipping_amount : 0;
  const baseShip = includeShipping ? order.base_shipping_amount : 0;
  return {
    entity_id: id, order_id: order.entity_id, increment_id: incrementIdFor(id, order.store_id), state: 2, can_void_flag: 0,
    created_at: at, updated_at: at, store_id: order.store_id, billing_address_id: order.billing_address_id, email_sent: 0,
    base_currency_code: order.base_currency_code, order_currency_code: order.order_currency_code, store_currency_code: order.store_currency_code,
    global_currency_code: order.global_currency_code, base_to_order_rate: order.base_to_order_rate,
    subtotal: round2(subtotal), base_subtotal: round2(baseSubtotal), subtotal_incl_tax: round2(subtotalIncl), base_subtotal_incl_tax: round2(baseSubtotalIncl),
    tax_amount: round2(tax), base_tax_amount: round2(baseTax), discount_amount: -round2(disc), base_discount_amount: -round2(baseDisc),
    shipping_amount: ship, base_shipping_amount: baseShip, shipping_incl_tax: ship, base_shipping_incl_tax: baseShip,
    grand_total: round2(subtotal - disc + tax + ship), base_grand_total: round2(baseSubtotal - baseDisc + baseTax + baseShip), total_qty: totalQty,
    items,
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

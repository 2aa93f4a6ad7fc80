/**
 * Matches ERP lines (SKU + quantity) to order items, the way Magento ships and invoices them:
 *
 * - A configurable product is two order items with the SAME sku (the chosen simple's): the parent
 *   (`product_type: configurable`, carries the price) and its child (`parent_item_id` set). The child is a
 *   "dummy" for shipping and invoicing (Order\Item::isDummy): Magento ships and invoices the parent's
 *   item id and moves the child along. So the ERP's child SKU resolves to the PARENT item id.
 * - Quantity left to ship is `qty_ordered − qty_shipped − qty_refunded − qty_canceled`
 *   (Order\Item::getSimpleQtyToShip); left to invoice `qty_ordered − qty_invoiced − qty_canceled`.
 * - Magento quietly caps a shipped quantity at what is left (ShipmentFactory::prepareItems), so an
 *   over-shipment would be accepted as a smaller one: we refuse it here, before calling Magento.
 *
 * Pure functions: no client, easy to test.
 */
import type { FulfilmentOrder, FulfilmentOrderItem, ErpShipmentLine, ItemQty, LineProblem, PlannedLine, ShipmentPlan } from './types';

/** Magento keeps quantities as decimal(12,4). */
const EPSILON = 1e-6;

export function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}

export function qtyToShip(item: FulfilmentOrderItem): number {
  return Math.max(0, round4((item.qty_ordered ?? 0) - (item.qty_shipped ?? 0) - (item.qty_refunded ?? 0) - (item.qty_canceled ?? 0)));
}

export function qtyToInvoice(item: FulfilmentOrderItem): number {
  return Math.max(0, round4((item.qty_ordered ?? 0) - (item.qty_invoiced ?? 0) - (item.qty_canceled ?? 0)));
}

function isVirtual(item: FulfilmentOrderItem): boolean {
  return item.is_virtual === true || item.is_virtual === 1 || item.product_type === 'virtual' || item.product_type === 'downloadable';
}

interface Target {
  item: FulfilmentOrderItem;
  viaParent: boolean;
}

/**
 * The order items an ERP SKU ships through, in item order. An exact SKU match wins; otherwise a
 * case-insensitive one (Magento's catalogue treats SKUs case-insensitively, the ERP may not).
 */
export function targetsForSku(order: FulfilmentOrder, sku: string): Target[] {
  let matches = order.items.filter((i) => i.sku === sku);
  if (matches.length === 0) {
    const lower = sku.toLowerCase();
    matches = order.items.filter((i) => i.sku.toLowerCase() === lower);
  }
  const byId = new Map(order.items.map((i) => [i.item_id, i] as const));
  const seen = new Set<number>();
  const out: Target[] = [];
  for (const item of matches) {
    const parent = item.parent_item_id ? byId.get(item.parent_item_id) : undefined;
    // The parent carries the child's SKU too: either match ends on the parent item.
    const target = parent && parent.product_type === 'configurable' ? { item: parent, viaParent: true } : { item, viaParent: item.product_type === 'configurable' };
    if (seen.has(target.item.item_id)) continue;
    seen.add(target.item.item_id);
    out.push(target);
  }
  return out.sort((a, b) => a.item.item_id - b.item.item_id);
}

function describeQty(item: FulfilmentOrderItem): string {
  const parts = [`ordered ${round4(item.qty_ordered ?? 0)}`, `shipped ${round4(item.qty_shipped ?? 0)}`];
  if (item.qty_canceled) parts.push(`canceled ${round4(item.qty_canceled)}`);
  if (item.qty_refunded) parts.push(`refunded ${round4(item.qty_refunded)}`);
  return parts.join(', ');
}

export interface PlanOptions {
  /** Check against what is left to ship (off when re-reading a shipment that already exists). */
  checkRemaining?: boolean;
}

/**
 * The shipment for these lines, or every problem found (unknown SKU, virtual item, more than is left).
 * Several lines with one SKU add up; one SKU on several order items fills them in item order.
 */
export function planShipment(order: FulfilmentOrder, lines: ErpShipmentLine[], options: PlanOptions = {}): { plan?: ShipmentPlan; problems: LineProblem[] } {
  const checkRemaining = options.checkRemaining !== false;
  const problems: LineProblem[] = [];
  const planned = new Map<number, number>();
  const out: PlannedLine[] = [];
  lines.forEach((line, index) => {
    const targets = targetsForSku(order, line.sku).filter((t) => !isVirtual(t.item));
    if (targets.length === 0) {
      const virtual = targetsForSku(order, line.sku).length > 0;
      problems.push({
        index, sku: line.sku, field: `lines[${index}].sku`,
        reason: virtual
          ? `"${line.sku}" is a virtual or downloadable item of order ${order.increment_id}: Magento ships nothing for it`
          : `"${line.sku}" is not an item of order ${order.increment_id}`,
      });
      return;
    }
    let left = round4(line.qty);
    const items: PlannedLine['items'] = [];
    for (const t of targets) {
      if (left <= EPSILON) break;
      const room = checkRemaining ? round4(qtyToShip(t.item) - (planned.get(t.item.item_id) ?? 0)) : left;
      if (room <= EPSILON) continue;
      const take = round4(Math.min(room, left));
      items.push(t.viaParent ? { order_item_id: t.item.item_id, qty: take, via_parent: true } : { order_item_id: t.item.item_id, qty: take });
      planned.set(t.item.item_id, round4((planned.get(t.item.item_id) ?? 0) + take));
      left = round4(left - take);
    }
    if (left > EPSILON) {
      const shippable = round4(line.qty - left);
      const facts = targets.map((t) => describeQty(t.item)).join('; ');
      problems.push({
        index, sku: line.sku, field: `lines[${index}].qty`,
        reason: `${round4(line.qty)} is more than the ${shippable} still to ship of "${line.sku}" in order ${order.increment_id} (${facts}${shippable < round4(targets.reduce((s, t) => s + qtyToShip(t.item), 0)) ? '; earlier lines of this shipment take the rest' : ''})`,
      });
      return;
    }
    out.push({ index, sku: line.sku, qty: round4(line.qty), items });
  });
  if (problems.length) return { problems };
  const items: ItemQty[] = [...planned.entries()].map(([order_item_id, qty]) => ({ order_item_id, qty }));
  items.sort((a, b) => a.order_item_id - b.order_item_id);
  return { plan: { lines: out, items }, problems };
}

/**
 * Invoice items for exactly the shipped quantities, capped at what is still to invoice (an order paid
 * and invoiced at checkout has nothing left). Empty when there is nothing to invoice.
 */
export function planInvoice(order: FulfilmentOrder, shipped: ItemQty[]): ItemQty[] {
  const byId = new Map(order.items.map((i) => [i.item_id, i] as const));
  const out: ItemQty[] = [];
  for (const s of shipped) {
    const item = byId.get(s.order_item_id);
    if (!item) continue;
    const qty = round4(Math.min(s.qty, qtyToInvoice(item)));
    if (qty > EPSILON) out.push({ order_item_id: s.order_item_id, qty });
  }
  return out;
}

/** Whether the next invoice will carry the shipping fee (Magento's Invoice\Total\Shipping rule). */
export function nextInvoiceCarriesShipping(order: FulfilmentOrder): boolean {
  return (order.shipping_amount ?? 0) > 0 && !((order.shipping_invoiced ?? 0) > 0);
}

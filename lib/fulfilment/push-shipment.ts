/**
 * An ERP delivery → `POST /V1/order/{orderId}/ship` (with tracks) and, when asked, an invoice for exactly
 * the shipped lines (`POST /V1/order/{orderId}/invoice`). Everything is checked before Magento is called:
 * the order exists and can ship, every SKU is an item of it, no line ships more than is left. A repeat of
 * the same ERP shipment id creates nothing twice (see marker.ts); calls for one order run one at a time so
 * two part deliveries never both spend the same remaining quantity.
 */
import { IntegrationError } from '../errors';
import { MagentoError } from '../magento/errors';
import type { MagentoClient } from '../magento/types';
import { findInvoiceFor, findShipmentFor, markedComment, markerOf, MarkedDocument } from './marker';
import { findOrder, orderState } from './order-lookup';
import { nextInvoiceCarriesShipping, planInvoice, planShipment } from './plan';
import { ErpShipment, FulfilmentOrder, InvoiceResult, ItemQty, ShipmentPlan, ShipmentResult } from './types';
import { throwLineProblems, validateShipment } from './validate';
import { KeyedLock } from './keyed-lock';

export type InvoiceMode = 'never' | 'always' | 'message';

export const INVOICE_MODES: readonly InvoiceMode[] = ['never', 'always', 'message'];

export interface ShipmentPushOptions {
  /** `message` (default): invoice when the ERP message says `invoice: true`. */
  invoice?: InvoiceMode;
  /** Capture the payment online with the invoice (Magento's `capture`); off leaves authorised payments open. */
  capture?: boolean;
  /** E-mail the customer when the message does not say (`notify`). */
  notify?: boolean;
  /** Show the ERP's shipment comment to the customer in their account. */
  commentVisibleOnFront?: boolean;
}

/** Order states in which Magento's Order::canShip() is false whatever the quantities. */
const NOT_SHIPPABLE: Record<string, string> = {
  holded: 'is on hold: release it (unhold) first',
  canceled: 'is canceled',
  closed: 'is closed (refunded)',
  payment_review: 'is in payment review',
};

export class ShipmentPush {
  private readonly locks = new KeyedLock();
  private readonly options: Required<ShipmentPushOptions>;

  constructor(private readonly client: MagentoClient, options: ShipmentPushOptions = {}) {
    this.options = {
      invoice: options.invoice && INVOICE_MODES.includes(options.invoice) ? options.invoice : 'message',
      capture: options.capture === true,
      notify: options.notify === true,
      commentVisibleOnFront: options.commentVisibleOnFront === true,
    };
  }

  /** Validates, then ships (and invoices); resolves with what Magento now holds for this ERP shipment. */
  async push(input: unknown): Promise<ShipmentResult> {
    const shipment = validateShipment(input);
    return this.locks.run(shipment.order_number, () => this.pushValid(shipment));
  }

  private wantsInvoice(shipment: ErpShipment): boolean {
    return this.options.invoice === 'always' || (this.options.invoice === 'message' && shipment.invoice === true);
  }

  private async pushValid(shipment: ErpShipment): Promise<ShipmentResult> {
    const order = await findOrder(this.client, shipment.order_number, { withItems: true, operation: 'shipments.order-lookup' });
    const existing = await findShipmentFor(this.client, order.entity_id, shipment.shipment_id);
    let plan: ShipmentPlan;
    let shipmentId: number;
    if (existing) {
      // Done before: report it from the ERP lines (quantities are no longer "left to ship").
      plan = planShipment(order, shipment.lines, { checkRemaining: false }).plan ?? { lines: [], items: shipmentItems(order, existing) };
      shipmentId = existing.entity_id;
    } else {
      const refusal = order.state ? NOT_SHIPPABLE[order.state] : undefined;
      if (refusal) {
        throw new IntegrationError('permanent', `Order ${order.increment_id} ${refusal}; Magento ships nothing for it (ERP shipment ${shipment.shipment_id})`, {
          target: this.client.settings.name, operation: 'shipments.create', field: 'order_number',
          details: { order_number: order.increment_id, order_id: order.entity_id, state: order.state, erp_shipment_id: shipment.shipment_id },
        });
      }
      const planned = planShipment(order, shipment.lines);
      if (!planned.plan) throwLineProblems(planned.problems, order.increment_id);
      plan = planned.plan;
      shipmentId = await this.ship(order, shipment, plan);
    }

    const result: ShipmentResult = {
      order_number: order.increment_id,
      order_id: order.entity_id,
      shipment_id: shipmentId,
      erp_shipment_id: shipment.shipment_id,
      created: !existing,
      lines: plan.lines.map((l) => {
        const line: ShipmentResult['lines'][number] = { index: l.index, sku: l.sku, qty: l.qty, order_item_ids: l.items.map((i) => i.order_item_id) };
        if (l.items.some((i) => i.via_parent)) line.via_parent = true;
        return line;
      }),
      tracks: existing?.tracks
        ? existing.tracks.map((t) => ({ carrier_code: String(t.carrier_code ?? ''), title: String(t.title ?? ''), track_number: String(t.track_number ?? '') }))
        : shipment.tracks.map((t) => ({ carrier_code: t.carrier, title: t.title, track_number: t.number })),
    };

    if (this.wantsInvoice(shipment)) {
      try {
        const invoice = await this.invoice(order, shipment, plan.items, !!existing);
        if (invoice.invoice) {
          result.invoice = invoice.invoice;
          result.invoice_id = invoice.invoice.invoice_id;
        } else {
          result.invoice_skipped = invoice.skipped;
        }
      } catch (err) {
        if (!existing) throw afterShipment(err, result);
        throw err;
      }
    }
    const state = await orderState(this.client, order.entity_id).catch(() => ({ state: undefined, status: undefined }));
    if (state.state !== undefined) result.order_state = state.state;
    if (state.status !== undefined) result.order_status = state.status;
    return result;
  }

  private async ship(order: FulfilmentOrder, shipment: ErpShipment, plan: ShipmentPlan): Promise<number> {
    const notify = shipment.notify ?? this.options.notify;
    const body = {
      items: plan.items,
      notify,
      // Magento stores the comment either way (ShipmentDocumentFactory); appendComment puts it in the e-mail
      // too. Without a mail it costs nothing, and some stores (and our sandbox) keep the comment only then.
      appendComment: !notify || !!shipment.comment,
      comment: {
        comment: markedComment(shipment.shipment_id, shipment.comment),
        is_visible_on_front: this.options.commentVisibleOnFront && !!shipment.comment ? 1 : 0,
      },
      tracks: shipment.tracks.map((t) => ({ track_number: t.number, title: t.title, carrier_code: t.carrier })),
    };
    let answer: unknown;
    try {
      answer = await this.client.request({
        method: 'POST', path: `/order/${order.entity_id}/ship`, body, operation: 'shipments.create',
        entity: { type: 'order', id: order.entity_id }, idempotencyKey: shipment.shipment_id,
      });
    } catch (err) {
      throw refused(err, `ship order ${order.increment_id} (ERP shipment ${shipment.shipment_id})`, {
        order_number: order.increment_id, order_id: order.entity_id, erp_shipment_id: shipment.shipment_id,
      });
    }
    const id = Number(answer);
    if (!Number.isInteger(id) || id <= 0) {
      throw new MagentoError('permanent', `POST /V1/order/${order.entity_id}/ship answered ${JSON.stringify(answer)} instead of a shipment id`, {
        target: this.client.settings.name, operation: 'shipments.create',
      });
    }
    return id;
  }

  private async invoice(order: FulfilmentOrder, shipment: ErpShipment, shipped: ItemQty[], shipmentExisted: boolean): Promise<{ invoice?: InvoiceResult; skipped?: string }> {
    if (shipmentExisted) {
      const found = await findInvoiceFor(this.client, order.entity_id, shipment.shipment_id);
      if (found) return { invoice: invoiceResult(found, found.items ?? [], this.options.capture, true) };
    }
    const items = planInvoice(order, shipped);
    if (items.length === 0) return { skipped: 'the shipped lines are invoiced already (nothing left to invoice)' };
    const predictedShipping = nextInvoiceCarriesShipping(order);
    const notify = shipment.notify ?? this.options.notify;
    let answer: unknown;
    try {
      answer = await this.client.request({
        method: 'POST', path: `/order/${order.entity_id}/invoice`, operation: 'invoices.create',
        entity: { type: 'order', id: order.entity_id }, idempotencyKey: `${shipment.shipment_id}:invoice`,
        body: {
          capture: this.options.capture,
          items,
          notify,
          // The marker must not reach the customer's e-mail; without a mail appending is harmless (see ship()).
          appendComment: !notify,
          comment: { comment: markerOf(shipment.shipment_id), is_visible_on_front: 0 },
        },
      });
    } catch (err) {
      throw refused(err, `invoice order ${order.increment_id} (ERP shipment ${shipment.shipment_id})`, {
        order_number: order.increment_id, order_id: order.entity_id, erp_shipment_id: shipment.shipment_id,
      });
    }
    const id = Number(answer);
    if (!Number.isInteger(id) || id <= 0) {
      throw new MagentoError('permanent', `POST /V1/order/${order.entity_id}/invoice answered ${JSON.stringify(answer)} instead of an invoice id`, {
        target: this.client.settings.name, operation: 'invoices.create',
      });
    }
    // The amounts come from Magento itself, so the result says what was really invoiced.
    const read = await this.client.request<Record<string, unknown>>({
      method: 'GET', path: `/invoices/${id}`, query: { fields: 'entity_id,increment_id,grand_total,subtotal,shipping_amount' },
      operation: 'invoices.get', entity: { type: 'invoice', id },
    }).catch(() => undefined);
    const doc: MarkedDocument = { entity_id: id };
    if (read) {
      if (read.increment_id !== undefined) doc.increment_id = String(read.increment_id);
      for (const key of ['grand_total', 'subtotal', 'shipping_amount'] as const) {
        if (read[key] !== undefined && read[key] !== null) doc[key] = Number(read[key]);
      }
    } else {
      doc.shipping_amount = predictedShipping ? order.shipping_amount : 0;
    }
    return { invoice: invoiceResult(doc, items, this.options.capture, false) };
  }
}

function invoiceResult(doc: MarkedDocument, items: ItemQty[], capture: boolean, existing: boolean): InvoiceResult {
  const out: InvoiceResult = {
    invoice_id: doc.entity_id, items, capture, includes_shipping: (doc.shipping_amount ?? 0) > 0,
  };
  if (doc.increment_id !== undefined) out.increment_id = doc.increment_id;
  if (doc.grand_total !== undefined) out.grand_total = doc.grand_total;
  if (doc.subtotal !== undefined) out.subtotal = doc.subtotal;
  if (doc.shipping_amount !== undefined) out.shipping_amount = doc.shipping_amount;
  if (existing) out.existing = true;
  return out;
}

/** The parent-level items of an existing shipment (children of configurables move with their parent). */
function shipmentItems(order: FulfilmentOrder, doc: MarkedDocument): ItemQty[] {
  const parents = new Set(order.items.filter((i) => !i.parent_item_id).map((i) => i.item_id));
  return (doc.items ?? []).filter((i) => parents.has(i.order_item_id));
}

/**
 * Magento's answer said in the ERP's terms, keeping the class (validation, transient, …) for retry-queue.
 * A call that got no answer may still have been applied: the retry finds it by its marker.
 */
function refused(err: unknown, what: string, details: Record<string, unknown>): IntegrationError {
  if (!(err instanceof IntegrationError)) return new IntegrationError('permanent', `Could not ${what}: ${err instanceof Error ? err.message : String(err)}`, { details });
  const m = err instanceof MagentoError ? err : undefined;
  const text = err.errorClass === 'transient' || err.errorClass === 'auth'
    ? `Could not ${what}: ${err.message}`
    : `Magento refused to ${what}: ${m?.magentoMessage ?? err.message}`;
  return new MagentoError(err.errorClass, text, {
    status: err.status, code: err.code, retryAfterMs: err.retryAfterMs, target: err.target, operation: err.operation,
    reason: m?.reason, hint: m?.hint, magentoMessage: m?.magentoMessage, details: { ...(err.details ?? {}), ...details },
  });
}

/** An invoice failure after a fresh shipment: the retry must know only the invoice is missing. */
function afterShipment(err: unknown, result: ShipmentResult): IntegrationError {
  const e = err instanceof IntegrationError ? err : new IntegrationError('permanent', String((err as Error)?.message ?? err));
  const m = e instanceof MagentoError ? e : undefined;
  return new MagentoError(e.errorClass, `Shipment ${result.shipment_id} of order ${result.order_number} was created for ERP shipment ${result.erp_shipment_id}, but the invoice failed (sending the same message again only invoices): ${e.message}`, {
    status: e.status, code: e.code, retryAfterMs: e.retryAfterMs, target: e.target, operation: e.operation,
    reason: m?.reason, magentoMessage: m?.magentoMessage,
    details: { ...(e.details ?? {}), shipment_id: result.shipment_id, shipment_created: true },
  });
}

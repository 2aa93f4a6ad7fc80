/**
 * Shapes of the ERP → Magento fulfilment messages (shipments, order status/comment updates) and of the
 * answers the push-shipment and order-update nodes send on. Field names follow the ERP message
 * (`schemas/erp-shipment.schema.json`) on the way in and Magento's words on the way out.
 */

export interface ErpShipmentLine {
  sku: string;
  qty: number;
}

export interface ErpTrack {
  /** Magento carrier code: ups, dhl, fedex, usps, custom, … */
  carrier: string;
  title: string;
  number: string;
}

/** One (possibly partial) delivery made by the ERP. */
export interface ErpShipment {
  /** The ERP's own delivery id: the key that makes a repeat create nothing twice. */
  shipment_id: string;
  /** Magento's `increment_id`. */
  order_number: string;
  lines: ErpShipmentLine[];
  tracks: ErpTrack[];
  /** Also invoice exactly the shipped lines (when the node's invoice setting is "as the message says"). */
  invoice?: boolean;
  /** E-mail the customer about the shipment (and invoice). */
  notify?: boolean;
  comment?: string;
}

/** The order fields fulfilment needs (trimmed with `fields=`). */
export interface FulfilmentOrder {
  entity_id: number;
  increment_id: string;
  store_id?: number;
  state?: string;
  status?: string;
  shipping_amount?: number;
  base_shipping_amount?: number;
  /** Shipping already invoiced: Magento puts the whole shipping fee on the first invoice. */
  shipping_invoiced?: number;
  items: FulfilmentOrderItem[];
}

export interface FulfilmentOrderItem {
  item_id: number;
  sku: string;
  name?: string;
  product_type?: string;
  qty_ordered?: number;
  qty_shipped?: number;
  qty_invoiced?: number;
  qty_canceled?: number;
  qty_refunded?: number;
  parent_item_id?: number | null;
  is_virtual?: number | boolean;
}

/** `{order_item_id, qty}` as Magento's ship and invoice routes take them. */
export interface ItemQty {
  order_item_id: number;
  qty: number;
}

/** How one ERP line was matched to the order. */
export interface PlannedLine {
  /** Position in the ERP message's `lines`. */
  index: number;
  sku: string;
  qty: number;
  /** The order items that take this line (one, unless the SKU was ordered on several items). */
  items: Array<ItemQty & {
    /** The configurable parent's item was used for this child SKU (Magento ships and invoices the parent). */
    via_parent?: boolean;
  }>;
}

export interface LineProblem {
  index: number;
  sku: string;
  /** `lines[2].sku`, `lines[0].qty` */
  field: string;
  reason: string;
}

export interface ShipmentPlan {
  lines: PlannedLine[];
  /** Per order item, summed over lines: the body of `POST /V1/order/{id}/ship`. */
  items: ItemQty[];
}

export interface InvoiceResult {
  invoice_id: number;
  increment_id?: string;
  /** Only the lines of this shipment (never more than is left to invoice). */
  items: ItemQty[];
  capture: boolean;
  grand_total?: number;
  subtotal?: number;
  shipping_amount?: number;
  /**
   * Magento invoices the whole shipping fee with the first invoice of an order that carries one
   * (Invoice\Total\Shipping skips it while an earlier, not canceled invoice has a shipping amount).
   */
  includes_shipping: boolean;
  /** True when this invoice existed already (a repeated ERP shipment). */
  existing?: boolean;
}

export interface ShipmentResult {
  order_number: string;
  order_id: number;
  /** Magento's shipment entity id. */
  shipment_id: number;
  erp_shipment_id: string;
  /** False when Magento already had a shipment for this ERP shipment id: nothing was created twice. */
  created: boolean;
  lines: Array<{ index: number; sku: string; qty: number; order_item_ids: number[]; via_parent?: boolean }>;
  tracks: Array<{ carrier_code: string; title: string; track_number: string }>;
  invoice_id?: number;
  invoice?: InvoiceResult;
  /** Why no invoice was made although one was asked for (e.g. the lines were invoiced already). */
  invoice_skipped?: string;
  /** The order after this shipment: `processing` while lines are left, `complete` when all is shipped and invoiced. */
  order_state?: string;
  order_status?: string;
}

export type OrderAction = 'comment' | 'cancel' | 'hold' | 'unhold';

export const ORDER_ACTIONS: readonly OrderAction[] = ['comment', 'cancel', 'hold', 'unhold'];

/** A status or comment update from the ERP for one order. */
export interface OrderUpdate {
  order_number: string;
  action: OrderAction;
  comment?: string;
  /** Order status code to set with a comment (must belong to the order's state in Magento). */
  status?: string;
  notify?: boolean;
  visible_on_front?: boolean;
}

export interface OrderUpdateResult {
  order_number: string;
  order_id: number;
  action: OrderAction;
  /** False when the order already was where the action leads (canceled, on hold, not on hold). */
  changed: boolean;
  state_before?: string;
  state?: string;
  status?: string;
  /** True when a status history comment was added (the `comment` action, or a comment given with another action). */
  commented?: boolean;
}

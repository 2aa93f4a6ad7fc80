/**
 * Idempotency without a gate: every shipment and invoice this pack creates carries a comment with the
 * ERP shipment id (`[ERP shipment SHP-1]`). Before creating, the order's shipments and invoices are read
 * back (`GET /V1/shipments`, `GET /V1/invoices`, filtered on `order_id`); a match means the work is done
 * already. This survives restarts and a gate whose memory was lost, and it finishes a half-done delivery
 * (shipment made, invoice not) instead of shipping twice.
 */
import type { MagentoClient } from '../magento/types';

export function markerOf(erpShipmentId: string): string {
  return `[ERP shipment ${erpShipmentId}]`;
}

/** The comment stored with the shipment: the ERP's text (if any) followed by the marker. */
export function markedComment(erpShipmentId: string, comment?: string): string {
  return comment ? `${comment}\n${markerOf(erpShipmentId)}` : markerOf(erpShipmentId);
}

export interface MarkedDocument {
  entity_id: number;
  increment_id?: string;
  items?: Array<{ order_item_id: number; qty: number }>;
  tracks?: Array<{ track_number?: string; title?: string; carrier_code?: string }>;
  grand_total?: number;
  subtotal?: number;
  shipping_amount?: number;
}

function hasMarker(comments: unknown, marker: string): boolean {
  if (!Array.isArray(comments)) return false;
  return comments.some((c) => c && typeof c === 'object' && typeof (c as { comment?: unknown }).comment === 'string'
    && ((c as { comment: string }).comment).includes(marker));
}

function toDoc(raw: Record<string, unknown>): MarkedDocument {
  const n = (v: unknown): number | undefined => (v === undefined || v === null || !Number.isFinite(Number(v)) ? undefined : Number(v));
  const doc: MarkedDocument = { entity_id: Number(raw.entity_id) };
  if (raw.increment_id !== undefined) doc.increment_id = String(raw.increment_id);
  if (Array.isArray(raw.items)) {
    doc.items = (raw.items as Record<string, unknown>[]).map((i) => ({ order_item_id: Number(i.order_item_id), qty: Number(i.qty) }));
  }
  if (Array.isArray(raw.tracks)) doc.tracks = raw.tracks as MarkedDocument['tracks'];
  for (const key of ['grand_total', 'subtotal', 'shipping_amount'] as const) {
    const v = n(raw[key]);
    if (v !== undefined) doc[key] = v;
  }
  return doc;
}

interface Kind {
  list: string;
  commentsRoute: (id: number) => string;
  fields: string;
  operation: string;
}

const SHIPMENTS: Kind = {
  list: '/shipments',
  commentsRoute: (id) => `/shipment/${id}/comments`,
  fields: 'items[entity_id,increment_id,order_id,items[order_item_id,qty],tracks[track_number,title,carrier_code],comments[comment]],total_count',
  operation: 'shipments.find-by-erp-id',
};

const INVOICES: Kind = {
  list: '/invoices',
  commentsRoute: (id) => `/invoices/${id}/comments`,
  fields: 'items[entity_id,increment_id,order_id,grand_total,subtotal,shipping_amount,items[order_item_id,qty],comments[comment]],total_count',
  operation: 'invoices.find-by-erp-id',
};

async function findMarked(client: MagentoClient, kind: Kind, orderId: number, erpShipmentId: string): Promise<MarkedDocument | undefined> {
  const marker = markerOf(erpShipmentId);
  const criteria = { filterGroups: [[{ field: 'order_id', value: String(orderId), conditionType: 'eq' as const }]] };
  for await (const page of client.pages<Record<string, unknown>>(kind.list, criteria, { fields: kind.fields, operation: kind.operation })) {
    for (const raw of page.items) {
      let comments = raw.comments;
      // Some versions and extensions leave `comments` out of list answers: ask the comments route then.
      if (!Array.isArray(comments)) {
        const answer = await client.request<{ items?: unknown[] }>({
          method: 'GET', path: kind.commentsRoute(Number(raw.entity_id)), operation: `${kind.operation}.comments`,
          entity: { type: kind === SHIPMENTS ? 'shipment' : 'invoice', id: Number(raw.entity_id) },
        });
        comments = answer && Array.isArray(answer.items) ? answer.items : [];
      }
      if (hasMarker(comments, marker)) return toDoc(raw);
    }
  }
  return undefined;
}

/** The Magento shipment made earlier for this ERP shipment id, if any. */
export function findShipmentFor(client: MagentoClient, orderId: number, erpShipmentId: string): Promise<MarkedDocument | undefined> {
  return findMarked(client, SHIPMENTS, orderId, erpShipmentId);
}

/** The Magento invoice made earlier for this ERP shipment id, if any. */
export function findInvoiceFor(client: MagentoClient, orderId: number, erpShipmentId: string): Promise<MarkedDocument | undefined> {
  return findMarked(client, INVOICES, orderId, erpShipmentId);
}

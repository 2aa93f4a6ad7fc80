/**
 * Checks what the ERP sends before anything reaches Magento. Every problem names its field
 * (`lines[2].qty`) and, for lines, the SKU; all problems of a message are reported at once, because the
 * person fixing the ERP export wants the whole list, not one fault per retry.
 */
import { ValidationError } from '../errors';
import { ErpShipment, ErpShipmentLine, ErpTrack, LineProblem, ORDER_ACTIONS, OrderAction, OrderUpdate } from './types';

const CARRIER_CODE = /^[A-Za-z0-9_-]+$/;
const MAX_SKU = 64;

type Problems = Array<{ field: string; reason: string; index?: number; sku?: string }>;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** A string or a whole number as a trimmed string; undefined when missing or blank. */
function idText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && v.trim()) return v.trim();
  return undefined;
}

function optionalBoolean(input: Record<string, unknown>, key: string, problems: Problems): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1) return true;
  if (v === 'false' || v === 0) return false;
  problems.push({ field: key, reason: `must be true or false (got ${JSON.stringify(v)})` });
  return undefined;
}

/** Throws one ValidationError for the first problem, carrying all of them in `details.problems`. */
export function throwProblems(problems: Problems, what: string): never {
  const first = problems[0];
  const list = problems.map((p) => `${p.field}${p.sku !== undefined ? ` (SKU "${p.sku}")` : ''}: ${p.reason}`);
  const reason = problems.length === 1
    ? `${first.reason}${first.sku !== undefined ? ` (SKU "${first.sku}")` : ''}`
    : `${first.reason}${first.sku !== undefined ? ` (SKU "${first.sku}")` : ''} — and ${problems.length - 1} more: ${list.slice(1).join('; ')}`;
  throw new ValidationError(first.field, reason, { details: { what, problems } });
}

export function validateShipment(input: unknown): ErpShipment {
  if (!isObject(input)) throw new ValidationError('payload', 'must be an ERP shipment object {shipment_id, order_number, lines, tracks}');
  const problems: Problems = [];
  const shipmentId = idText(input.shipment_id);
  if (shipmentId === undefined) problems.push({ field: 'shipment_id', reason: 'is required (the ERP\'s delivery id, a non-blank string or a positive whole number)' });
  else if (shipmentId.length > 255) problems.push({ field: 'shipment_id', reason: 'must be at most 255 characters long' });
  const orderNumber = idText(input.order_number);
  if (orderNumber === undefined) problems.push({ field: 'order_number', reason: 'is required (Magento\'s order increment id, e.g. "000000123")' });
  else if (orderNumber.length > 50) problems.push({ field: 'order_number', reason: 'must be at most 50 characters long' });

  const lines: ErpShipmentLine[] = [];
  if (!Array.isArray(input.lines) || input.lines.length === 0) {
    problems.push({ field: 'lines', reason: 'must be a non-empty list of {sku, qty}' });
  } else {
    input.lines.forEach((raw, i) => {
      const at = `lines[${i}]`;
      if (!isObject(raw)) {
        problems.push({ field: at, reason: 'must be an object {sku, qty}', index: i });
        return;
      }
      const sku = typeof raw.sku === 'string' ? raw.sku : undefined;
      let ok = true;
      if (sku === undefined || sku.trim() === '') {
        problems.push({ field: `${at}.sku`, reason: 'is required', index: i });
        ok = false;
      } else if (sku !== sku.trim()) {
        problems.push({ field: `${at}.sku`, reason: 'must not start or end with whitespace', index: i, sku });
        ok = false;
      } else if (sku.length > MAX_SKU) {
        problems.push({ field: `${at}.sku`, reason: `must be at most ${MAX_SKU} characters long`, index: i, sku });
        ok = false;
      }
      const qty = typeof raw.qty === 'string' && raw.qty.trim() !== '' ? Number(raw.qty) : raw.qty;
      if (typeof qty !== 'number' || !Number.isFinite(qty)) {
        problems.push({ field: `${at}.qty`, reason: `must be a number (got ${JSON.stringify(raw.qty)})`, index: i, sku });
        ok = false;
      } else if (qty <= 0) {
        problems.push({ field: `${at}.qty`, reason: `must be more than 0 (got ${qty})`, index: i, sku });
        ok = false;
      }
      if (ok) lines.push({ sku: sku!, qty: qty as number });
    });
  }

  const tracks: ErpTrack[] = [];
  if (input.tracks !== undefined && input.tracks !== null) {
    if (!Array.isArray(input.tracks)) {
      problems.push({ field: 'tracks', reason: 'must be a list of {carrier, title, number}' });
    } else {
      input.tracks.forEach((raw, i) => {
        const at = `tracks[${i}]`;
        if (!isObject(raw)) {
          problems.push({ field: at, reason: 'must be an object {carrier, title, number}' });
          return;
        }
        const carrier = typeof raw.carrier === 'string' ? raw.carrier.trim() : '';
        const number = typeof raw.number === 'string' || typeof raw.number === 'number' ? String(raw.number).trim() : '';
        const title = typeof raw.title === 'string' && raw.title.trim() ? raw.title.trim() : carrier;
        if (!carrier) problems.push({ field: `${at}.carrier`, reason: 'is required (a Magento carrier code such as ups, dhl, fedex, usps or custom)' });
        else if (!CARRIER_CODE.test(carrier) || carrier.length > 32) problems.push({ field: `${at}.carrier`, reason: `"${carrier}" is not a carrier code (letters, digits, _ and -, at most 32)` });
        if (!number) problems.push({ field: `${at}.number`, reason: 'is required (the tracking number)' });
        else if (number.length > 255) problems.push({ field: `${at}.number`, reason: 'must be at most 255 characters long' });
        if (title.length > 255) problems.push({ field: `${at}.title`, reason: 'must be at most 255 characters long' });
        if (carrier && number) tracks.push({ carrier, title, number });
      });
    }
  }

  const invoice = optionalBoolean(input, 'invoice', problems);
  const notify = optionalBoolean(input, 'notify', problems);
  let comment: string | undefined;
  if (input.comment !== undefined && input.comment !== null) {
    if (typeof input.comment !== 'string') problems.push({ field: 'comment', reason: 'must be a string' });
    else if (input.comment.trim()) comment = input.comment.trim();
  }
  if (problems.length) throwProblems(problems, 'shipment');
  const out: ErpShipment = { shipment_id: shipmentId!, order_number: orderNumber!, lines, tracks };
  if (invoice !== undefined) out.invoice = invoice;
  if (notify !== undefined) out.notify = notify;
  if (comment !== undefined) out.comment = comment;
  return out;
}

/** Line problems found against the order (unknown SKU, over-shipping) as the same kind of error. */
export function throwLineProblems(problems: LineProblem[], orderNumber: string): never {
  return throwProblems(problems.map((p) => ({ field: p.field, reason: p.reason, index: p.index, sku: p.sku })), `shipment for order ${orderNumber}`);
}

const STATUS_CODE = /^[a-z0-9_]{1,32}$/;

export function validateOrderUpdate(input: unknown, defaults: { action?: OrderAction; notify?: boolean; visibleOnFront?: boolean } = {}): OrderUpdate {
  if (!isObject(input)) throw new ValidationError('payload', 'must be an order update object {order_number, action, comment?, status?}');
  const problems: Problems = [];
  const orderNumber = idText(input.order_number);
  if (orderNumber === undefined) problems.push({ field: 'order_number', reason: 'is required (Magento\'s order increment id, e.g. "000000123")' });
  const rawAction = input.action === undefined || input.action === null || input.action === '' ? defaults.action : input.action;
  let action: OrderAction | undefined;
  if (rawAction === undefined) problems.push({ field: 'action', reason: `is required: one of ${ORDER_ACTIONS.join(', ')}` });
  else if (typeof rawAction !== 'string' || !(ORDER_ACTIONS as readonly string[]).includes(rawAction)) {
    problems.push({ field: 'action', reason: `"${String(rawAction)}" is not one of ${ORDER_ACTIONS.join(', ')}` });
  } else action = rawAction as OrderAction;
  let comment: string | undefined;
  if (input.comment !== undefined && input.comment !== null) {
    if (typeof input.comment !== 'string') problems.push({ field: 'comment', reason: 'must be a string' });
    else if (input.comment.trim()) comment = input.comment.trim();
  }
  let status: string | undefined;
  if (input.status !== undefined && input.status !== null && input.status !== '') {
    if (typeof input.status !== 'string' || !STATUS_CODE.test(input.status)) {
      problems.push({ field: 'status', reason: `${JSON.stringify(input.status)} is not an order status code (lower-case letters, digits and _, e.g. "processing")` });
    } else status = input.status;
  }
  if (action === 'comment' && comment === undefined && status === undefined) {
    problems.push({ field: 'comment', reason: 'is required for action "comment" (or give a status)' });
  }
  const notify = optionalBoolean(input, 'notify', problems);
  const visible = optionalBoolean(input, 'visible_on_front', problems);
  if (problems.length) throwProblems(problems, 'order update');
  const out: OrderUpdate = { order_number: orderNumber!, action: action! };
  if (comment !== undefined) out.comment = comment;
  if (status !== undefined) out.status = status;
  out.notify = notify ?? defaults.notify ?? false;
  out.visible_on_front = visible ?? defaults.visibleOnFront ?? false;
  return out;
}

/**
 * What the demo ERP sends toward the integration: stock levels, prices, shipments (with tracking, part
 * deliveries) and new products, POSTed to the HTTP-in endpoints of the integration flow
 * (`/erp/stock`, `/erp/prices`, `/erp/shipments`, `/erp/products`). Payloads are either given explicitly
 * or generated from the ERP's own state with a seeded random source, so a demo replays the same way.
 */
import { ValidationError } from '../../lib/errors';
import { newProduct } from './catalog';
import { SeededRandom } from './random';
import { ErpOrder, ErpState, OrderLine, Track } from './state';

export type EmitKind = 'stock' | 'prices' | 'shipments' | 'products';

export const EMIT_KINDS: readonly EmitKind[] = ['stock', 'prices', 'shipments', 'products'];

export const EMIT_PATHS: Record<EmitKind, string> = {
  stock: '/erp/stock',
  prices: '/erp/prices',
  shipments: '/erp/shipments',
  products: '/erp/products',
};

export interface StockItem { sku: string; qty: number; source?: string }
export interface PriceItem { sku: string; price: number; store_id?: number }
export interface ProductItem {
  sku: string; name: string; price: number; short_description?: string; description?: string; weight?: number; qty?: number;
}
export interface ShipmentMessage {
  shipment_id: string; order_number: string; lines: OrderLine[]; tracks: Track[]; invoice?: true;
}

/** One POST toward the integration, as recorded (never with the token). */
export interface Delivery {
  kind: EmitKind;
  url: string;
  time: string;
  payload: unknown;
  ok: boolean;
  status?: number;
  response?: unknown;
  error?: string;
  durationMs: number;
}

type Body = Record<string, unknown>;

const CARRIERS: ReadonlyArray<[string, string]> = [['ups', 'UPS'], ['dhl', 'DHL'], ['fedex', 'Federal Express'], ['usps', 'United States Postal Service']];

function asObject(body: unknown): Body {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object');
  return body as Body;
}

function countOf(body: Body, fallback: number): number {
  if (body.count === undefined) return fallback;
  const n = body.count;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1000) {
    throw new ValidationError('count', 'must be an integer from 1 to 1000');
  }
  return n;
}

function itemsOf(body: Body): Body[] | undefined {
  if (body.items === undefined) return undefined;
  if (!Array.isArray(body.items) || body.items.length === 0) throw new ValidationError('items', 'must be a non-empty array');
  return body.items.map((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new ValidationError(`items[${i}]`, 'must be an object');
    return item as Body;
  });
}

function requireSku(item: Body, field: string): string {
  if (typeof item.sku !== 'string' || item.sku.trim() === '') throw new ValidationError(`${field}.sku`, 'must be a non-empty string');
  return item.sku;
}

function requireNumber(value: unknown, field: string, options: { integer?: boolean; min?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(field, 'must be a number');
  if (options.integer && !Number.isInteger(value)) throw new ValidationError(field, 'must be an integer');
  if (options.min !== undefined && value < options.min) throw new ValidationError(field, `must be at least ${options.min}`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, 'must be a non-empty string');
  return value;
}

export class ErpEmitter {
  readonly random: SeededRandom;
  private shipmentSeq = 0;

  constructor(private readonly state: ErpState, readonly seed: number) {
    this.random = new SeededRandom(seed ^ 0x5eed);
  }

  /** `{items:[{sku,qty,source?}]}` as given (and booked), or `{count}` new stock levels drawn from the catalogue. */
  stock(input: unknown): { items: StockItem[] } {
    const body = asObject(input);
    const given = itemsOf(body);
    const items: StockItem[] = given
      ? given.map((item, i) => {
          const out: StockItem = { sku: requireSku(item, `items[${i}]`), qty: requireNumber(item.qty, `items[${i}].qty`, { min: 0 }) };
          const source = optionalString(item.source, `items[${i}].source`);
          if (source !== undefined) out.source = source;
          return out;
        })
      : this.random.sample(this.skusOrFail(), countOf(body, 3)).map((sku) => ({
          sku,
          qty: this.random.int(0, 150),
          source: this.random.pick(this.state.sources),
        }));
    for (const item of items) this.state.setStock(item.sku, item.source ?? this.state.sources[0], item.qty);
    return { items };
  }

  /** `{items:[{sku,price,store_id?}]}` as given (and booked), or `{count}` price changes of ±10 %. */
  prices(input: unknown): { items: PriceItem[] } {
    const body = asObject(input);
    const given = itemsOf(body);
    const items: PriceItem[] = given
      ? given.map((item, i) => {
          const out: PriceItem = { sku: requireSku(item, `items[${i}]`), price: requireNumber(item.price, `items[${i}].price`, { min: 0 }) };
          if (item.store_id !== undefined) out.store_id = requireNumber(item.store_id, `items[${i}].store_id`, { integer: true, min: 0 });
          return out;
        })
      : this.random.sample(this.skusOrFail(), countOf(body, 2)).map((sku) => {
          const current = this.state.prices.get(`0|${sku}`)?.price ?? this.random.int(10, 100);
          const price = Math.max(0.5, Math.round(current * (0.9 + this.random.next() * 0.2) * 100) / 100);
          return { sku, price };
        });
    for (const item of items) this.state.setPrice(item.sku, item.price, item.store_id);
    return { items };
  }

  /** `{items:[{sku,name,price,…}]}` as given, or `{count}` new products; the ERP books them in its catalogue. */
  products(input: unknown): { items: ProductItem[] } {
    const body = asObject(input);
    const given = itemsOf(body);
    const items: ProductItem[] = given
      ? given.map((item, i) => {
          const f = `items[${i}]`;
          const name = optionalString(item.name, `${f}.name`);
          if (name === undefined) throw new ValidationError(`${f}.name`, 'is required');
          const out: ProductItem = { sku: requireSku(item, f), name, price: requireNumber(item.price, `${f}.price`, { min: 0 }) };
          const short = optionalString(item.short_description, `${f}.short_description`);
          if (short !== undefined) out.short_description = short;
          const description = optionalString(item.description, `${f}.description`);
          if (description !== undefined) out.description = description;
          if (item.weight !== undefined) out.weight = requireNumber(item.weight, `${f}.weight`, { min: 0 });
          if (item.qty !== undefined) out.qty = requireNumber(item.qty, `${f}.qty`, { min: 0 });
          return out;
        })
      : Array.from({ length: countOf(body, 1) }, () => {
          this.state.productSeq += 1;
          return newProduct(this.random, this.seed, this.state.productSeq);
        });
    for (const item of items) {
      const { qty, ...product } = item;
      this.state.addProduct(product, 'erp');
      if (qty !== undefined) this.state.setStock(item.sku, this.state.sources[0], qty);
    }
    return { items };
  }

  /**
   * Shipments to send, one message each. Explicit: `{order_number, lines?, tracks?, invoice?, force?}` (lines
   * default to everything still open). Generated: `{count?, partial?, invoice?}` ships the oldest `count`
   * open orders; `partial` ships about half of each (a part delivery), leaving the rest for a later call.
   * Nothing is booked here: `bookShipment` does it once the integration accepted the message.
   */
  shipments(input: unknown): Array<{ order: ErpOrder; message: ShipmentMessage }> {
    const body = asObject(input);
    if (body.partial !== undefined && typeof body.partial !== 'boolean') throw new ValidationError('partial', 'must be true or false');
    if (body.invoice !== undefined && typeof body.invoice !== 'boolean') throw new ValidationError('invoice', 'must be true or false');
    const invoice = body.invoice !== false;
    if (body.order_number !== undefined) {
      const number = optionalString(body.order_number, 'order_number')!;
      const order = this.state.ordersByNumber.get(number);
      if (!order) throw new ValidationError('order_number', `order ${number} was never received by the ERP`, { status: 404 });
      const lines = body.lines === undefined ? this.plan(order, body.partial === true) : this.explicitLines(order, body.lines, body.force === true);
      if (lines.length === 0) throw new ValidationError('order_number', `order ${number} has nothing left to ship`, { status: 409 });
      return [{ order, message: this.message(order, lines, invoice, body.tracks) }];
    }
    const orders = this.state.openOrders().slice(0, countOf(body, 1));
    return orders.map((order) => ({ order, message: this.message(order, this.plan(order, body.partial === true), invoice, undefined) }));
  }

  bookShipment(order: ErpOrder, message: ShipmentMessage): void {
    this.state.recordShipment(order, message.lines, message.tracks, message.invoice === true, message.shipment_id);
  }

  private message(order: ErpOrder, lines: OrderLine[], invoice: boolean, tracks: unknown): ShipmentMessage {
    this.shipmentSeq += 1;
    const message: ShipmentMessage = {
      shipment_id: `ERP-SHP-${this.seed}-${String(this.shipmentSeq).padStart(6, '0')}`,
      order_number: order.order_number,
      lines,
      tracks: tracks === undefined ? [this.track()] : this.explicitTracks(tracks),
    };
    if (invoice) message.invoice = true;
    return message;
  }

  private plan(order: ErpOrder, partial: boolean): OrderLine[] {
    const open = this.state.remaining(order);
    if (!partial) return open;
    // A part delivery: the first half of the lines, or half of a single line's quantity.
    if (open.length > 1) return open.slice(0, Math.ceil(open.length / 2));
    if (open.length === 1 && open[0].qty > 1) return [{ sku: open[0].sku, qty: Math.floor(open[0].qty / 2) }];
    return open;
  }

  private explicitLines(order: ErpOrder, value: unknown, force: boolean): OrderLine[] {
    if (!Array.isArray(value) || value.length === 0) throw new ValidationError('lines', 'must be a non-empty array');
    const open = new Map(this.state.remaining(order).map((l) => [l.sku, l.qty]));
    return value.map((entry, i) => {
      if (!entry || typeof entry !== 'object') throw new ValidationError(`lines[${i}]`, 'must be an object');
      const line = entry as Body;
      const sku = requireSku(line, `lines[${i}]`);
      const qty = requireNumber(line.qty, `lines[${i}].qty`, { min: 0.0001 });
      // `force` lets a demo send an over-shipment on purpose, to show Magento refusing it.
      if (!force && qty > (open.get(sku) ?? 0)) {
        throw new ValidationError(`lines[${i}].qty`, `order ${order.order_number} has ${open.get(sku) ?? 0} of ${sku} left to ship, not ${qty} (send "force": true to send it anyway)`);
      }
      return { sku, qty };
    });
  }

  private explicitTracks(value: unknown): Track[] {
    if (!Array.isArray(value)) throw new ValidationError('tracks', 'must be an array');
    return value.map((entry, i) => {
      if (!entry || typeof entry !== 'object') throw new ValidationError(`tracks[${i}]`, 'must be an object');
      const t = entry as Body;
      return {
        carrier: optionalString(t.carrier, `tracks[${i}].carrier`) ?? 'custom',
        title: optionalString(t.title, `tracks[${i}].title`) ?? 'Carrier',
        number: optionalString(t.number, `tracks[${i}].number`) ?? (() => { throw new ValidationError(`tracks[${i}].number`, 'is required'); })(),
      };
    });
  }

  private track(): Track {
    const [carrier, title] = this.random.pick(CARRIERS);
    const digits = Array.from({ length: 12 }, () => this.random.int(0, 9)).join('');
    return { carrier, title, number: `${carrier.toUpperCase()}${digits}` };
  }

  private skusOrFail(): string[] {
    const skus = this.state.skus();
    if (skus.length === 0) throw new ValidationError('count', 'the ERP knows no SKU yet: give explicit items');
    return skus;
  }
}

/** POSTs one message to the integration; never throws (the answer, or the failure, is the result). */
export async function deliver(
  kind: EmitKind,
  baseUrl: string,
  payload: unknown,
  options: { token?: string; timeoutMs?: number } = {},
): Promise<Delivery> {
  const url = baseUrl.replace(/\/+$/, '') + EMIT_PATHS[kind];
  const started = Date.now();
  const result: Delivery = { kind, url, time: new Date(started).toISOString(), payload, ok: false, durationMs: 0 };
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let response: unknown = text;
    try {
      response = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    result.status = res.status;
    result.response = response;
    result.ok = res.ok;
    if (!res.ok) result.error = `${url} answered ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    result.error = `${url}: ${e.cause?.code ?? e.name}: ${e.cause && (e.cause as Error).message ? (e.cause as Error).message : e.message}`;
  }
  result.durationMs = Date.now() - started;
  return result;
}

/** Checks one ERP price and turns it into the body Magento's price API expects. */
import { ValidationError } from '../errors';
import { parseTimestamp } from '../batching/timestamps';
import { Checked, checkSku, toFiniteNumber } from '../inventory/validate';
import { PRICE_TYPES, PriceOptions, PriceType, PriceUpdate } from './types';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A date as Magento's special-price API checks it (`Y-m-d H:i:s`, a real calendar date). A bare
 * `YYYY-MM-DD` is taken as midnight. Returns the normalised string or undefined.
 */
export function normalizePriceDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let s = value.trim();
  if (DATE_ONLY.test(s)) s += ' 00:00:00';
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (h > 23 || mi > 59 || se > 59) return undefined;
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return undefined;
  return s;
}

function nonNegativeInt(value: unknown, fallback: number, field: string): Checked<number> {
  if (value === undefined || value === null || value === '') return { ok: true, value: fallback };
  const n = toFiniteNumber(value);
  if (n === undefined || !Number.isInteger(n) || n < 0) return { ok: false, error: new ValidationError(field, `not a whole number ≥ 0: ${JSON.stringify(value)}`) };
  return { ok: true, value: n };
}

function pick(item: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (item[n] !== undefined && item[n] !== null) return item[n];
  return undefined;
}

export function inferPriceType(item: Record<string, unknown>): PriceType {
  if (pick(item, 'price_from', 'price_to', 'from', 'to') !== undefined) return 'special';
  if (pick(item, 'customer_group', 'quantity', 'qty', 'price_type') !== undefined) return 'tier';
  return 'base';
}

export function validatePriceUpdate(raw: unknown, options: Pick<PriceOptions, 'defaultStoreId' | 'defaultWebsiteId' | 'defaultCustomerGroup'>): Checked<PriceUpdate> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: new ValidationError('item', 'not an object like {sku, price, store_id?}') };
  }
  const item = raw as Record<string, unknown>;
  const sku = checkSku(item.sku);
  if (!sku.ok) return sku;

  let type: PriceType;
  if (item.type !== undefined && item.type !== null && item.type !== '') {
    if (!(PRICE_TYPES as readonly unknown[]).includes(item.type)) {
      return { ok: false, error: new ValidationError('type', `must be one of ${PRICE_TYPES.join(', ')}: ${JSON.stringify(item.type)}`) };
    }
    type = item.type as PriceType;
  } else {
    type = inferPriceType(item);
  }

  if (item.price === undefined || item.price === null || item.price === '') return { ok: false, error: new ValidationError('price', 'missing') };
  const price = toFiniteNumber(item.price);
  if (price === undefined) return { ok: false, error: new ValidationError('price', `not a finite number: ${JSON.stringify(item.price)}`) };
  if (price < 0) return { ok: false, error: new ValidationError('price', `negative (${price})`) };

  const rawTs = pick(item, 'timestamp', 'updated_at');
  const timestamp = parseTimestamp(rawTs);
  if (timestamp !== undefined && Number.isNaN(timestamp)) {
    return { ok: false, error: new ValidationError('timestamp', `not a date or epoch time: ${JSON.stringify(rawTs)}`) };
  }

  if (type === 'tier') {
    const website = nonNegativeInt(pick(item, 'website_id', 'websiteId'), options.defaultWebsiteId, 'website_id');
    if (!website.ok) return website;
    const rawQty = pick(item, 'quantity', 'qty');
    const quantity = rawQty === undefined ? 1 : toFiniteNumber(rawQty);
    if (quantity === undefined || quantity <= 0) return { ok: false, error: new ValidationError('quantity', `not a number > 0: ${JSON.stringify(rawQty)}`) };
    const group = pick(item, 'customer_group', 'customerGroup') ?? options.defaultCustomerGroup;
    if (typeof group !== 'string' || group.trim() === '') return { ok: false, error: new ValidationError('customer_group', 'must be a customer group code such as "ALL GROUPS"') };
    const priceType = pick(item, 'price_type', 'priceType') ?? 'fixed';
    if (priceType !== 'fixed' && priceType !== 'discount') return { ok: false, error: new ValidationError('price_type', `must be fixed or discount: ${JSON.stringify(priceType)}`) };
    if (priceType === 'discount' && price > 100) return { ok: false, error: new ValidationError('price', `a discount is a percentage and cannot exceed 100 (${price})`) };
    return { ok: true, value: { type, timestamp, body: { sku: sku.value, price, price_type: priceType, website_id: website.value, customer_group: group, quantity } } };
  }

  const store = nonNegativeInt(pick(item, 'store_id', 'storeId'), options.defaultStoreId, 'store_id');
  if (!store.ok) return store;
  if (type === 'base') return { ok: true, value: { type, timestamp, body: { sku: sku.value, price, store_id: store.value } } };

  const rawFrom = pick(item, 'price_from', 'from');
  const rawTo = pick(item, 'price_to', 'to');
  if (rawFrom === undefined) return { ok: false, error: new ValidationError('price_from', 'missing (a special price needs price_from and price_to)') };
  if (rawTo === undefined) return { ok: false, error: new ValidationError('price_to', 'missing (a special price needs price_from and price_to)') };
  const from = normalizePriceDate(rawFrom);
  if (!from) return { ok: false, error: new ValidationError('price_from', `not a valid date "YYYY-MM-DD HH:MM:SS": ${JSON.stringify(rawFrom)}`) };
  const to = normalizePriceDate(rawTo);
  if (!to) return { ok: false, error: new ValidationError('price_to', `not a valid date "YYYY-MM-DD HH:MM:SS": ${JSON.stringify(rawTo)}`) };
  if (to < from) return { ok: false, error: new ValidationError('price_to', `before price_from (${to} < ${from})`) };
  return { ok: true, value: { type, timestamp, body: { sku: sku.value, price, store_id: store.value, price_from: from, price_to: to } } };
}

/** What Magento keeps once for a price: later values for the same key replace earlier ones. */
export function priceKey(u: PriceUpdate): string {
  const sku = u.body.sku.toLowerCase();
  switch (u.type) {
    case 'base': return `base\u001f${sku}\u001f${u.body.store_id}`;
    case 'special': return `special\u001f${sku}\u001f${u.body.store_id}\u001f${u.body.price_from}\u001f${u.body.price_to}`;
    case 'tier': return `tier\u001f${sku}\u001f${u.body.website_id}\u001f${u.body.customer_group.toLowerCase()}\u001f${u.body.quantity}`;
  }
}

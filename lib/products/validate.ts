/**
 * Checks ERP product items one by one: a bad item is reported by index and field and never blocks the
 * good ones of the same message.
 */
import { ValidationError } from '../errors';
import type { ErpProduct } from './types';

const MAX_SKU = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** The list of raw items in a payload: one item, `{items:[...]}` (POST /erp/products) or an array. */
export function productItemsOf(payload: unknown): unknown[] {
  if (Array.isArray(payload)) {
    if (payload.length === 0) throw new ValidationError('payload', 'is an empty list: nothing to push');
    return payload;
  }
  if (isObject(payload)) {
    if (payload.items !== undefined) {
      if (!Array.isArray(payload.items) || payload.items.length === 0) throw new ValidationError('payload.items', 'must be a non-empty list of products');
      return payload.items;
    }
    return [payload];
  }
  throw new ValidationError('payload', `must be a product {sku, name, price, …}, a list of them, or {items:[…]} (got ${payload === null ? 'null' : typeof payload})`);
}

function number(raw: Record<string, unknown>, key: string, at: string, required: boolean): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ValidationError(`${at}.${key}`, 'is required');
    return undefined;
  }
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ValidationError(`${at}.${key}`, `must be a number (got ${JSON.stringify(v)})`);
  if (n < 0) throw new ValidationError(`${at}.${key}`, `must not be negative (got ${n})`);
  return n;
}

function text(raw: Record<string, unknown>, key: string, at: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${at}.${key}`, `must be a string (got ${typeof v})`);
  return v;
}

/** One item as ErpProduct, or a ValidationError naming `items[index].field`. */
export function validateProduct(raw: unknown, index: number): ErpProduct {
  const at = `items[${index}]`;
  if (!isObject(raw)) throw new ValidationError(at, 'must be a product object {sku, name, price, …}');
  const sku = raw.sku;
  if (typeof sku !== 'string' || sku.trim() === '') throw new ValidationError(`${at}.sku`, 'is required');
  if (sku !== sku.trim()) throw new ValidationError(`${at}.sku`, `"${sku}" must not start or end with whitespace`);
  if (sku.length > MAX_SKU) throw new ValidationError(`${at}.sku`, `must be at most ${MAX_SKU} characters long (Magento's limit)`);
  const name = text(raw, 'name', at);
  if (name === undefined || name.trim() === '') throw new ValidationError(`${at}.name`, 'is required');
  if (name.length > 255) throw new ValidationError(`${at}.name`, 'must be at most 255 characters long');
  const out: ErpProduct = { sku, name: name.trim(), price: number(raw, 'price', at, true)! };
  const short = text(raw, 'short_description', at);
  if (short !== undefined) out.short_description = short;
  const long = text(raw, 'description', at);
  if (long !== undefined) out.description = long;
  const weight = number(raw, 'weight', at, false);
  if (weight !== undefined) out.weight = weight;
  const qty = number(raw, 'qty', at, false);
  if (qty !== undefined) out.qty = qty;
  return out;
}

/**
 * Checks and normalises ERP stock updates one by one, so a bad item is named (index, field, reason) and
 * the good ones still go.
 */
import { ValidationError } from '../errors';
import { parseTimestamp } from '../batching/timestamps';
import { InventoryMode, SourceItemUpdate } from './types';

/** Magento's `sku` column is varchar(64). */
export const MAX_SKU_LENGTH = 64;

export interface StockValidationContext {
  mode: InventoryMode;
  defaultSource: string;
  warehouses: Record<string, string>;
  allowNegative: boolean;
  /** Source codes the store has; undefined when unknown (not checked). */
  knownSources?: ReadonlySet<string>;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: ValidationError };

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, or a string that is one (ERPs often send "12.0000"). */
export function toFiniteNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC.test(value.trim())) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** SKU rules shared by stock and prices: a non-empty string Magento could hold. */
export function checkSku(value: unknown, field = 'sku'): Checked<string> {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { ok: false, error: new ValidationError(field, 'missing (a product SKU string is required)') };
  }
  const sku = String(value);
  if (sku.trim() === '') return { ok: false, error: new ValidationError(field, 'empty') };
  if (sku !== sku.trim()) return { ok: false, error: new ValidationError(field, 'has leading or trailing spaces, which Magento would not match') };
  if (sku.length > MAX_SKU_LENGTH) return { ok: false, error: new ValidationError(field, `longer than Magento's ${MAX_SKU_LENGTH} characters`) };
  return { ok: true, value: sku };
}

function parseStatus(value: unknown): 0 | 1 | undefined | 'bad' {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 1 || value === true || value === '1') return 1;
  if (value === 0 || value === false || value === '0') return 0;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
    if (s === 'in_stock' || s === 'instock' || s === 'true') return 1;
    if (s === 'out_of_stock' || s === 'outofstock' || s === 'false') return 0;
  }
  return 'bad';
}

export function validateStockUpdate(raw: unknown, ctx: StockValidationContext): Checked<SourceItemUpdate> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: new ValidationError('item', 'not an object like {sku, qty, source?}') };
  }
  const item = raw as Record<string, unknown>;
  const sku = checkSku(item.sku);
  if (!sku.ok) return sku;

  const rawQty = item.qty !== undefined ? item.qty : item.quantity;
  if (rawQty === undefined || rawQty === null || rawQty === '') return { ok: false, error: new ValidationError('qty', 'missing') };
  const quantity = toFiniteNumber(rawQty);
  if (quantity === undefined) return { ok: false, error: new ValidationError('qty', `not a finite number: ${JSON.stringify(rawQty)}`) };
  if (quantity < 0 && !ctx.allowNegative) {
    return { ok: false, error: new ValidationError('qty', `negative (${quantity}) and negative quantities are not allowed by this node`) };
  }

  let source: string;
  const rawSource = item.source !== undefined ? item.source : item.source_code;
  if (rawSource !== undefined && rawSource !== null && rawSource !== '') {
    if (typeof rawSource !== 'string') return { ok: false, error: new ValidationError('source', 'not a string') };
    source = rawSource;
  } else if (item.warehouse !== undefined && item.warehouse !== null && item.warehouse !== '') {
    const mapped = Object.prototype.hasOwnProperty.call(ctx.warehouses, String(item.warehouse)) ? ctx.warehouses[String(item.warehouse)] : undefined;
    if (!mapped) return { ok: false, error: new ValidationError('warehouse', `"${String(item.warehouse)}" is not in the node's warehouse → source table`) };
    source = mapped;
  } else {
    source = ctx.defaultSource;
  }
  if (ctx.mode === 'legacy' && source !== ctx.defaultSource && source !== 'default') {
    return { ok: false, error: new ValidationError('source', `"${source}": stores without MSI keep one stock (the default source); legacy mode cannot push to another source`) };
  }
  if (ctx.knownSources && ctx.mode !== 'legacy' && !ctx.knownSources.has(source)) {
    return { ok: false, error: new ValidationError('source', `"${source}" is not a source of this store`) };
  }

  const status = parseStatus(item.status);
  if (status === 'bad') return { ok: false, error: new ValidationError('status', `not 1/0, true/false, in_stock/out_of_stock: ${JSON.stringify(item.status)}`) };

  const rawTs = item.timestamp !== undefined ? item.timestamp : item.updated_at;
  const timestamp = parseTimestamp(rawTs);
  if (timestamp !== undefined && Number.isNaN(timestamp)) {
    return { ok: false, error: new ValidationError('timestamp', `not a date or epoch time: ${JSON.stringify(rawTs)}`) };
  }

  return {
    ok: true,
    value: {
      sku: sku.value,
      source_code: source,
      quantity,
      // Magento would show a product with nothing to sell as in stock if told so; derive unless the ERP decides.
      status: status !== undefined ? status : quantity > 0 ? 1 : 0,
      statusGiven: status !== undefined,
      timestamp,
    },
  };
}

/** SKUs are case-insensitive in Magento (MySQL collation): "abc" and "ABC" are one product. */
export function stockKey(update: Pick<SourceItemUpdate, 'sku' | 'source_code'>): string {
  return `${update.sku.toLowerCase()}\u001f${update.source_code}`;
}

/**
 * ERP core product data → Magento, idempotent by SKU: read the product first (`GET /V1/products/{sku}`),
 * create it DISABLED when it is new (so a person finishes it: images, categories, texts, then enables it),
 * and otherwise PUT only the core fields that differ — never status, visibility, categories, images or url
 * keys, which belong to the shop team. Values go through the store code `all` by default: a PUT through a
 * store view code (`default`) would write store-view overrides instead of the global values.
 */
import { IntegrationError, ValidationError } from '../errors';
import { encodePathSegment } from '../magento/url';
import { MagentoError } from '../magento/errors';
import type { MagentoClient } from '../magento/types';
import { mapPool } from '../batching/chunk';
import { KeyedLock } from '../fulfilment/keyed-lock';
import { CORE_FIELDS, CoreField, ErpProduct, ProductCounts, ProductItemResult, ProductPushResult } from './types';
import { productItemsOf, validateProduct } from './validate';

export interface ProductPushOptions {
  /** Store code the values are written through (default `all`: global values). */
  storeCode?: string;
  /** Visibility of new products: 1 not visible individually, 2 catalog, 3 search, 4 catalog + search (default). */
  visibility?: number;
  /** Attribute set of new products (default 4, Magento's "Default"). */
  attributeSetId?: number;
  /** Create new products enabled (status 1) instead of disabled (status 2, the default). */
  createEnabled?: boolean;
  /** Websites new products are assigned to; empty = Magento's choice (all websites when written through `all`). */
  websiteIds?: number[];
  /** Products handled at once (the client still queues under the store's own concurrency). */
  concurrency?: number;
}

const STATUS_ENABLED = 1;
const STATUS_DISABLED = 2;
const TEXT_ATTRIBUTES: ReadonlyArray<CoreField> = ['description', 'short_description'];
const READ_FIELDS = 'id,sku,name,price,status,visibility,type_id,weight,custom_attributes';
/** Magento's answer when a generated url key is taken by another product. */
const URL_KEY_TAKEN = /url key .*already exists/i;

type ExistingProduct = Record<string, unknown> & { custom_attributes?: Array<{ attribute_code: string; value: unknown }> };

function sameNumber(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null || a === '') return b === undefined || b === null || b === '';
  // Magento keeps prices and weights as decimal(20,6) / decimal(12,4).
  return Math.abs(Number(a) - Number(b)) < 0.00005;
}

function sameText(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
  return norm(a) === norm(b);
}

function attribute(product: ExistingProduct, code: string): unknown {
  return product.custom_attributes?.find((a) => a.attribute_code === code)?.value;
}

function slug(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Core fields whose ERP value differs from Magento's (fields the ERP did not send are left alone). */
export function changedFields(erp: ErpProduct, existing: ExistingProduct): CoreField[] {
  const out: CoreField[] = [];
  for (const field of CORE_FIELDS) {
    const value = erp[field];
    if (value === undefined) continue;
    if (TEXT_ATTRIBUTES.includes(field)) {
      if (!sameText(value, attribute(existing, field))) out.push(field);
    } else if (field === 'name') {
      if (!sameText(value, existing.name)) out.push(field);
    } else if (!sameNumber(value, existing[field])) {
      out.push(field);
    }
  }
  return out;
}

export class ProductPush {
  private readonly options: Required<Omit<ProductPushOptions, 'websiteIds'>> & { websiteIds: number[] };
  private readonly locks = new KeyedLock();

  constructor(private readonly client: MagentoClient, options: ProductPushOptions = {}) {
    const visibility = Number(options.visibility ?? 4);
    const attributeSetId = Number(options.attributeSetId ?? 4);
    if (![1, 2, 3, 4].includes(visibility)) throw new ValidationError('visibility', `must be 1, 2, 3 or 4 (got ${String(options.visibility)})`);
    if (!Number.isInteger(attributeSetId) || attributeSetId < 1) throw new ValidationError('attributeSetId', `must be a positive whole number (got ${String(options.attributeSetId)})`);
    const concurrency = Number(options.concurrency ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new ValidationError('concurrency', `must be a whole number of 1 or more (got ${String(options.concurrency)})`);
    const websiteIds = (options.websiteIds ?? []).map(Number);
    if (websiteIds.some((w) => !Number.isInteger(w) || w < 0)) throw new ValidationError('websiteIds', 'must be whole numbers (website ids)');
    this.options = {
      storeCode: options.storeCode || 'all',
      visibility,
      attributeSetId,
      createEnabled: options.createEnabled === true,
      websiteIds,
      concurrency,
    };
  }

  /**
   * Every item of the payload, each with its own outcome. Throws only when the payload itself is not a
   * product list; item faults are per-item results.
   */
  async push(payload: unknown): Promise<ProductPushResult> {
    const raw = productItemsOf(payload);
    const items = await mapPool(raw, this.options.concurrency, async (item, index): Promise<ProductItemResult> => {
      let product: ErpProduct;
      try {
        product = validateProduct(item, index);
      } catch (err) {
        const e = err as ValidationError;
        const sku = item && typeof item === 'object' && typeof (item as { sku?: unknown }).sku === 'string' ? (item as { sku: string }).sku : undefined;
        const out: ProductItemResult = { index, outcome: 'invalid', reason: e.message, field: e.field };
        if (sku !== undefined) out.sku = sku;
        return out;
      }
      // One SKU twice in a payload: in order, so the second sees the first's result.
      return this.locks.run(product.sku.toLowerCase(), () => this.pushOne(product, index));
    });
    return summarize(items, this.options.storeCode);
  }

  private async pushOne(product: ErpProduct, index: number): Promise<ProductItemResult> {
    try {
      const existing = await this.read(product.sku);
      if (!existing) return await this.create(product, index);
      const changed = changedFields(product, existing);
      const id = existing.id === undefined ? undefined : Number(existing.id);
      if (changed.length === 0) return withId({ index, sku: product.sku, outcome: 'unchanged' }, id);
      await this.update(product, changed);
      return withId({ index, sku: product.sku, outcome: 'updated', changed }, id);
    } catch (err) {
      const e = err instanceof IntegrationError ? err : new IntegrationError('permanent', String((err as Error)?.message ?? err));
      return { index, sku: product.sku, outcome: 'failed', reason: e.message, errorClass: e.errorClass };
    }
  }

  private async read(sku: string): Promise<ExistingProduct | undefined> {
    try {
      return await this.client.request<ExistingProduct>({
        method: 'GET', path: `/products/${encodePathSegment(sku)}`, storeCode: this.options.storeCode,
        query: { fields: READ_FIELDS }, operation: 'products.get', entity: { type: 'product', id: sku },
      });
    } catch (err) {
      if (err instanceof IntegrationError && err.errorClass === 'not-found') return undefined;
      throw err;
    }
  }

  private createBody(product: ErpProduct, urlKey?: string): Record<string, unknown> {
    const customAttributes: Array<{ attribute_code: string; value: unknown }> = [];
    if (product.description !== undefined) customAttributes.push({ attribute_code: 'description', value: product.description });
    if (product.short_description !== undefined) customAttributes.push({ attribute_code: 'short_description', value: product.short_description });
    if (urlKey) customAttributes.push({ attribute_code: 'url_key', value: urlKey });
    const body: Record<string, unknown> = {
      sku: product.sku,
      name: product.name,
      price: product.price,
      status: this.options.createEnabled ? STATUS_ENABLED : STATUS_DISABLED,
      visibility: this.options.visibility,
      type_id: 'simple',
      attribute_set_id: this.options.attributeSetId,
    };
    if (product.weight !== undefined) body.weight = product.weight;
    if (customAttributes.length) body.custom_attributes = customAttributes;
    const extension: Record<string, unknown> = {};
    if (product.qty !== undefined) extension.stock_item = { qty: product.qty, is_in_stock: product.qty > 0 };
    if (this.options.websiteIds.length) extension.website_ids = this.options.websiteIds;
    if (Object.keys(extension).length) body.extension_attributes = extension;
    return body;
  }

  private async create(product: ErpProduct, index: number): Promise<ProductItemResult> {
    const send = (urlKey?: string) => this.client.request<Record<string, unknown>>({
      method: 'POST', path: '/products', storeCode: this.options.storeCode, body: { product: this.createBody(product, urlKey) },
      operation: 'products.create', entity: { type: 'product', id: product.sku },
    });
    let answer: Record<string, unknown>;
    try {
      answer = await send();
    } catch (err) {
      // Magento derives the url key from the name; two products named alike collide. The SKU makes it unique.
      if (err instanceof MagentoError && URL_KEY_TAKEN.test(err.magentoMessage ?? err.message)) {
        answer = await send(slug(`${product.name}-${product.sku}`) || undefined);
      } else {
        throw err;
      }
    }
    const out: ProductItemResult = {
      index, sku: product.sku, outcome: 'created', status: Number(answer?.status ?? (this.options.createEnabled ? STATUS_ENABLED : STATUS_DISABLED)),
    };
    return withId(out, answer?.id === undefined ? undefined : Number(answer.id));
  }

  private async update(product: ErpProduct, changed: CoreField[]): Promise<void> {
    const body: Record<string, unknown> = { sku: product.sku };
    const customAttributes: Array<{ attribute_code: string; value: unknown }> = [];
    for (const field of changed) {
      if (TEXT_ATTRIBUTES.includes(field)) customAttributes.push({ attribute_code: field, value: product[field] });
      else body[field] = product[field];
    }
    if (customAttributes.length) body.custom_attributes = customAttributes;
    await this.client.request({
      method: 'PUT', path: `/products/${encodePathSegment(product.sku)}`, storeCode: this.options.storeCode, body: { product: body },
      operation: 'products.update', entity: { type: 'product', id: product.sku },
    });
  }
}

function withId(result: ProductItemResult, id: number | undefined): ProductItemResult {
  if (id !== undefined && Number.isFinite(id)) result.id = id;
  return result;
}

export function summarize(items: ProductItemResult[], storeCode: string): ProductPushResult {
  const counts: ProductCounts = { total: items.length, created: 0, updated: 0, unchanged: 0, invalid: 0, failed: 0 };
  for (const it of items) counts[it.outcome]++;
  const applied = counts.created + counts.updated + counts.unchanged;
  const status = applied === counts.total ? 'ok' : applied === 0 ? 'failed' : 'partial';
  return { status, counts, items, storeCode };
}

/**
 * What `done(err)` reports for a result with items not applied, and which input items a retry should send
 * again. Items that failed in Magento come first: `transient` when any of them is worth retrying (sending
 * them again is safe — anything done meanwhile comes back `unchanged`), else the first one's class. Only
 * when nothing failed do the invalid items make it a `validation` error (re-sending them cannot help).
 * Undefined when everything was applied.
 */
export function resultError(result: ProductPushResult, target?: string): { error: IntegrationError; indexes: number[] } | undefined {
  const failed = result.items.filter((i) => i.outcome === 'failed');
  const invalid = result.items.filter((i) => i.outcome === 'invalid');
  const bad = failed.length ? failed : invalid;
  if (bad.length === 0) return undefined;
  const first = bad[0];
  const errorClass: IntegrationError['errorClass'] = failed.length
    ? (failed.some((i) => i.errorClass === 'transient') ? 'transient' : (first.errorClass as IntegrationError['errorClass']) ?? 'permanent')
    : 'validation';
  const all = [...failed, ...invalid];
  const list = all.slice(0, 5).map((i) => `items[${i.index}]${i.sku !== undefined ? ` (SKU "${i.sku}")` : ''}: ${i.reason}`).join('; ');
  const error = new IntegrationError(errorClass, `${all.length} of ${result.counts.total} products not applied: ${list}${all.length > 5 ? '; …' : ''}`, {
    target, operation: 'products.push', field: first.field,
    details: { counts: result.counts, items: all.map((i) => ({ index: i.index, sku: i.sku, outcome: i.outcome, reason: i.reason, field: i.field, errorClass: i.errorClass })) },
  });
  return { error, indexes: bad.map((i) => i.index) };
}

/**
 * The Magento 2.4 routes the pack uses, as declared in each module's etc/webapi.xml: method, path,
 * ACL resource (named in the 401), handler. Handlers receive the decoded body and answer plain data or
 * throw a WebapiError; the server turns both into Magento's JSON.
 */
import type { Catalog, Customer, SourceItem, TierPrice } from './catalog';
import { magentoDate } from './dates';
import type { OrderBook, OrderEvent } from './orders';
import type { Order } from './order-factory';
import { parseCriteria, searchRows, type ColumnSpec, type Criteria, type PagingLimits } from './search';
import { storeConfigsBody, storeExists, storeViewsBody, websiteExists, WEBSITES } from './stores';
import {
  WebapiError, noSuchEntity, productNotFound, requiredField, tooManyItems,
} from './webapi-error';

/** An answer already serialised (order lists are assembled from cached order JSON). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface InputLimits {
  /** Web API input limits on (Stores > Configuration > Services > Web API Input Limits). */
  enabled: boolean;
  /** Max items of one list in a synchronous request (default 20). */
  maxItemsPerRequest: number;
  /** Max searchCriteria pageSize (default 300). */
  maxPageSize: number;
  /** pageSize used when none is sent (default 20). */
  defaultPageSize: number;
  /** Max items in one async bulk request (default 5000). */
  maxBulkItems: number;
}

export const DEFAULT_SANDBOX_INPUT_LIMITS: InputLimits = { enabled: true, maxItemsPerRequest: 20, maxPageSize: 300, defaultPageSize: 20, maxBulkItems: 5000 };

export interface RouteContext {
  params: Record<string, string>;
  rawQuery: string;
  body: unknown;
  storeCode: string;
  storeId: number;
  /** True inside an async/bulk operation: list limits are the bulk ones. */
  async: boolean;
}

export interface World {
  catalog: Catalog;
  orders: OrderBook;
  limits: InputLimits;
  baseUrl: () => string;
  now: () => number;
  /** Order changes are announced to webhooks. */
  onOrderEvent: (event: OrderEvent, order: Order) => void;
  issueAdminToken: (username: unknown, password: unknown) => string;
  bulk: {
    detailedStatus(uuid: string): unknown;
    shortStatus(uuid: string): unknown;
    operationStatus(uuid: string, status: number): number;
  };
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** ACL resource named in Magento's 401 ("anonymous" routes need none). */
  resource: string;
  /** Topic name of the async variant (Magento names it after the service interface). */
  topic?: string;
  /** The body parameter an async request must carry (checked when the request is accepted, as Magento does). */
  bodyParam?: string;
  /** Path parameter the bulk variant reads from each body item (`/async/bulk/V1/products/bySku`). */
  bulkParam?: { name: string; from: string };
  handle: (world: World, ctx: RouteContext) => unknown;
  regex?: RegExp;
  keys?: string[];
}

// ---- body helpers ------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Magento's input processor reads a field in snake_case or camelCase. */
function field(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const o = obj as Obj;
  if (o[name] !== undefined) return o[name];
  const c = camel(name);
  if (o[c] !== undefined) return o[c];
  const snake = name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
  return o[snake];
}

function requireParam(body: unknown, name: string): unknown {
  const v = field(body, name);
  if (v === undefined || v === null) throw requiredField(name);
  return v;
}

function list(body: unknown, name: string, type: string, world: World, ctx: RouteContext, required = true): Obj[] {
  const v = required ? requireParam(body, name) : field(body, name) ?? [];
  if (!Array.isArray(v)) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: name, value: typeof v === 'object' ? JSON.stringify(v) : String(v) });
  const max = ctx.async ? world.limits.maxBulkItems : world.limits.maxItemsPerRequest;
  if (world.limits.enabled && v.length > max) throw tooManyItems(type, max);
  return v as Obj[];
}

function criteria(world: World, ctx: RouteContext, required: boolean): Criteria {
  const limits: PagingLimits = { enabled: world.limits.enabled, maxPageSize: world.limits.maxPageSize, defaultPageSize: world.limits.defaultPageSize };
  return parseCriteria(ctx.rawQuery, limits, required);
}

function intParam(ctx: RouteContext, name: string): number {
  const raw = ctx.params[name];
  if (!/^\d+$/.test(raw)) throw new WebapiError(400, 'Invalid type for value: "%1". Expected Type: "%2".', [raw, 'int']);
  return Number(raw);
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

const PRODUCT_COLUMNS: ColumnSpec = {
  columns: new Set(['entity_id', 'id', 'sku', 'name', 'price', 'status', 'visibility', 'type_id', 'attribute_set_id', 'created_at', 'updated_at', 'weight']),
  dateColumns: new Set(['created_at', 'updated_at']),
};
const SOURCE_ITEM_COLUMNS: ColumnSpec = { columns: new Set(['sku', 'source_code', 'quantity', 'status', 'source_item_id']) };
const SOURCE_COLUMNS: ColumnSpec = { columns: new Set(['source_code', 'name', 'enabled', 'country_id', 'postcode', 'city']) };
const DOC_COLUMNS: ColumnSpec = {
  columns: new Set(['entity_id', 'order_id', 'increment_id', 'state', 'store_id', 'created_at', 'updated_at', 'grand_total', 'base_grand_total', 'total_qty', 'customer_id', 'email_sent', 'billing_address_id', 'shipping_address_id']),
  dateColumns: new Set(['created_at', 'updated_at']),
};

/**
 * Customers are EAV entities: CustomerRepository::getList filters and sorts on attribute codes (entity_id
 * is the id; `id` is not an attribute), plus `name` (addNameToSelect) and the default billing address joins.
 * Anything else is Magento's 400 "Invalid attribute name".
 */
const CUSTOMER_COLUMNS: ColumnSpec = {
  columns: new Set(['entity_id', 'attribute_set_id', 'increment_id', 'website_id', 'store_id', 'group_id', 'email', 'firstname', 'lastname', 'middlename',
    'prefix', 'suffix', 'name', 'dob', 'gender', 'taxvat', 'created_at', 'updated_at', 'created_in', 'is_active', 'default_billing', 'default_shipping',
    'confirmation', 'disable_auto_group_change', 'billing_postcode', 'billing_city', 'billing_telephone', 'billing_region', 'billing_country_id', 'company']),
  dateColumns: new Set(['created_at', 'updated_at', 'dob']),
};

function checkCustomerColumns(c: Criteria): void {
  const fields = [...c.filterGroups.flat().map((f) => f.field), ...(c.sortOrders ?? []).map((s) => s.field)];
  const bad = fields.find((f) => !CUSTOMER_COLUMNS.columns.has(f));
  if (bad !== undefined) throw new WebapiError(400, 'Invalid attribute name: %1', [bad]);
}

function customerRow(cu: Customer): Obj {
  const billing = cu.addresses.find((a) => String(a.id) === cu.default_billing);
  const region = billing ? (typeof billing.region === 'string' ? billing.region : billing.region.region) : undefined;
  return {
    ...cu, entity_id: cu.id, attribute_set_id: 1, is_active: 1, name: `${cu.firstname} ${cu.lastname}`,
    billing_postcode: billing?.postcode, billing_city: billing?.city, billing_telephone: billing?.telephone, billing_region: region,
    billing_country_id: billing?.country_id, company: billing?.company,
  };
}

// ---- handlers ------------------------------------------------------------------------------------

function orderFor(world: World, ctx: RouteContext, param = 'id'): number {
  const id = intParam(ctx, param);
  world.orders.get(id);
  return id;
}

/**
 * `GET .../{id}/comments` (Order/Invoice/ShipmentManagement::getCommentsList): the comment repository's
 * list filtered on `parent_id`, in storage order, with that filter echoed. The id is not checked first, so an
 * unknown one is an empty list, not a 404.
 */
function commentsList(parentId: number, comments: Obj[] | undefined): unknown {
  const items = [...(comments ?? [])].sort((a, b) => (a.entity_id as number) - (b.entity_id as number));
  return { items, search_criteria: { filter_groups: [{ filters: [{ field: 'parent_id', value: String(parentId), condition_type: 'eq' }] }] }, total_count: items.length };
}

/** A ship/invoice `comment` (ShipmentCommentCreationInterface / InvoiceCommentCreationInterface), either case. */
function commentArg(body: unknown): { comment?: string; is_visible_on_front?: number | boolean } | undefined {
  const cm = field(body, 'comment');
  if (cm === undefined || cm === null) return undefined;
  if (typeof cm !== 'object' || Array.isArray(cm)) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'comment', value: JSON.stringify(cm) });
  const text = field(cm, 'comment');
  return { comment: text === undefined || text === null ? undefined : String(text), is_visible_on_front: field(cm, 'is_visible_on_front') as number | boolean | undefined };
}

function announce(world: World, event: OrderEvent, id: number): void {
  world.onOrderEvent(event, world.orders.get(id));
}

function productRow(world: World, storeId: number) {
  return (p: Obj): Obj => world.catalog.productView(world.catalog.getProduct(String(p.sku))!, storeId, false);
}

function saveProduct(world: World, ctx: RouteContext, input: Obj, skuFromPath?: string): unknown {
  const c = world.catalog;
  const sku = skuFromPath ?? (field(input, 'sku') as string | undefined);
  if (sku === undefined || sku === null || String(sku).trim() === '') throw new WebapiError(400, 'The "%1" attribute value is empty. Set the attribute and try again.', ['sku']);
  const at = magentoDate(world.now());
  const existing = c.getProduct(String(sku));
  const status = num(field(input, 'status'));
  if (status !== undefined && status !== 1 && status !== 2) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'status', value: String(field(input, 'status')) });
  const price = num(field(input, 'price'));
  if (price !== undefined && (Number.isNaN(price) || price < 0)) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'price', value: String(field(input, 'price')) });
  if (!existing) {
    if (skuFromPath !== undefined && field(input, 'name') === undefined) throw productNotFound();
    const p = c.addProduct({ ...input, sku: String(sku), status: status ?? 1, price: price ?? 0 }, at);
    return c.productView(p, ctx.storeId, true);
  }
  const storeScoped = ctx.storeCode !== 'all' && ctx.storeId !== 0;
  for (const key of ['name', 'status', 'visibility'] as const) {
    const v = field(input, key);
    if (v === undefined) continue;
    const value = key === 'name' ? String(v) : Number(v);
    if (storeScoped) {
      existing.storeValues ??= {};
      existing.storeValues[ctx.storeId] = { ...existing.storeValues[ctx.storeId], [key]: value };
    } else (existing as unknown as Obj)[key] = value;
  }
  // Price scope is global (Magento's default): a price written through any store code is the global one.
  if (price !== undefined) c.setBasePrice({ sku: existing.sku, price, store_id: 0 });
  const weight = num(field(input, 'weight'));
  if (weight !== undefined && !Number.isNaN(weight)) existing.weight = weight;
  const attrs = field(input, 'custom_attributes');
  if (Array.isArray(attrs)) {
    for (const a of attrs as Obj[]) {
      const code = String(field(a, 'attribute_code'));
      const i = existing.custom_attributes.findIndex((x) => x.attribute_code === code);
      if (i >= 0) existing.custom_attributes[i] = { attribute_code: code, value: a.value };
      else existing.custom_attributes.push({ attribute_code: code, value: a.value });
    }
  }
  const stock = field(field(input, 'extension_attributes'), 'stock_item') as Obj | undefined;
  if (stock && existing.type_id === 'simple') setLegacyStock(world, existing.sku, stock);
  existing.updated_at = at;
  return c.productView(existing, ctx.storeId, true);
}

function setLegacyStock(world: World, sku: string, stock: Obj): void {
  const cur = world.catalog.getSourceItem(sku, 'default');
  const qty = num(field(stock, 'qty'));
  const inStock = field(stock, 'is_in_stock');
  const quantity = qty !== undefined && !Number.isNaN(qty) ? qty : cur?.quantity ?? 0;
  const status = inStock !== undefined ? (inStock === true || inStock === 1 || inStock === '1' ? 1 : 0) : quantity > 0 ? 1 : cur?.status ?? 0;
  world.catalog.setSourceItem({ sku, source_code: 'default', quantity, status });
}

function saveSourceItems(world: World, ctx: RouteContext): unknown {
  const items = list(ctx.body, 'sourceItems', '\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface', world, ctx);
  const errors: Array<{ message: string; parameters: Record<string, string> }> = [];
  const parsed: SourceItem[] = [];
  for (const raw of items) {
    const sku = field(raw, 'sku');
    const source = field(raw, 'source_code');
    const quantity = num(field(raw, 'quantity'));
    const status = num(field(raw, 'status'));
    if (typeof sku !== 'string' || sku.trim() === '') errors.push({ message: '"%field" can not be empty.', parameters: { field: 'sku' } });
    else if (!world.catalog.getProduct(sku)) errors.push({ message: 'Product with requested "%field": "%value" was was not found.', parameters: { field: 'sku', value: sku } });
    if (typeof source !== 'string' || source.trim() === '') errors.push({ message: '"%field" can not be empty.', parameters: { field: 'source_code' } });
    else if (/\s/.test(source)) errors.push({ message: '"%field" can not contain whitespaces.', parameters: { field: 'source_code' } });
    if (quantity === undefined || Number.isNaN(quantity)) errors.push({ message: '"%field" should be numeric.', parameters: { field: 'quantity' } });
    if (status !== 0 && status !== 1) errors.push({ message: '"%field" should a known status.', parameters: { field: 'status' } });
    if (typeof sku === 'string' && typeof source === 'string') parsed.push({ sku, source_code: source, quantity: quantity ?? 0, status: status ?? 0 });
  }
  if (errors.length) throw new WebapiError(400, 'Validation Failed', undefined, errors);
  // An unknown source fails the foreign key: the whole batch is refused, nothing is saved.
  if (parsed.some((p) => !world.catalog.sources.has(p.source_code))) throw new WebapiError(400, 'Could not save Source Item');
  for (const p of parsed) world.catalog.setSourceItem(p);
  return [];
}

type Failure = { message: string; parameters: Array<string | number | null> };

function basePrices(world: World, ctx: RouteContext): Failure[] {
  const prices = list(ctx.body, 'prices', '\\Magento\\Catalog\\Api\\Data\\BasePriceInterface', world, ctx);
  const failures: Failure[] = [];
  const ok: Array<{ sku: string; price: number; store_id: number }> = [];
  prices.forEach((p) => {
    const sku = field(p, 'sku');
    const price = num(field(p, 'price'));
    const storeId = num(field(p, 'store_id')) ?? 0;
    let failed = false;
    if (typeof sku !== 'string' || !sku || !world.catalog.getProduct(sku)) {
      failures.push({ message: 'Invalid attribute %fieldName = %fieldValue.', parameters: ['SKU', (sku as string) ?? null] }); failed = true;
    }
    if (price === undefined || Number.isNaN(price) || price < 0) {
      failures.push({ message: 'Invalid attribute %fieldName = %fieldValue.', parameters: ['Price', (field(p, 'price') as number) ?? null] }); failed = true;
    }
    if (!storeExists(storeId)) {
      failures.push({ message: 'Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.', parameters: [String(sku), storeId] }); failed = true;
    }
    if (!failed) ok.push({ sku: sku as string, price: price!, store_id: storeId });
  });
  for (const p of ok) world.catalog.setBasePrice(p);
  return failures;
}

function specialPrices(world: World, ctx: RouteContext, remove: boolean): Failure[] {
  const prices = list(ctx.body, 'prices', '\\Magento\\Catalog\\Api\\Data\\SpecialPriceInterface', world, ctx);
  const failures: Failure[] = [];
  const rowId = 'Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.';
  for (const p of prices) {
    const sku = field(p, 'sku') as string;
    const price = num(field(p, 'price'));
    const storeId = num(field(p, 'store_id')) ?? 0;
    const from = String(field(p, 'price_from') ?? '');
    const to = String(field(p, 'price_to') ?? '');
    const row = [sku ?? null, storeId, from, to];
    const before = failures.length;
    if (!sku || !world.catalog.getProduct(sku)) failures.push({ message: `The product that was requested doesn't exist. Verify the product and try again. ${rowId}`, parameters: row });
    if (storeId !== 0) failures.push({ message: `Could not change non global Price when price scope is global. ${rowId}`, parameters: row });
    if (!storeExists(storeId)) failures.push({ message: `Requested store is not found. ${rowId}`, parameters: row });
    if (price === undefined || Number.isNaN(price) || price < 0) failures.push({ message: `Invalid attribute Price = %price. ${rowId}`, parameters: [field(p, 'price') as number ?? null, ...row] });
    for (const [label, v] of [['Price From', from], ['Price To', to]] as const) {
      if (v && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v)) failures.push({ message: `Invalid attribute %label = %priceTo. ${rowId}`, parameters: [label, ...row] });
    }
    if (failures.length !== before) continue;
    const list2 = world.catalog.specialPrices;
    const idx = list2.findIndex((s) => s.sku.toLowerCase() === sku.toLowerCase() && s.store_id === storeId && s.price_from === from && s.price_to === to);
    if (remove) { if (idx >= 0) list2.splice(idx, 1); continue; }
    const value = { sku: world.catalog.getProduct(sku)!.sku, price: price!, store_id: storeId, price_from: from, price_to: to };
    if (idx >= 0) list2[idx] = value; else list2.push(value);
  }
  return failures;
}

function tierPrices(world: World, ctx: RouteContext, mode: 'update' | 'replace' | 'delete'): Failure[] {
  const prices = list(ctx.body, 'prices', '\\Magento\\Catalog\\Api\\Data\\TierPriceInterface', world, ctx);
  const failures: Failure[] = [];
  const rowId = 'Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.';
  const ok: TierPrice[] = [];
  for (const p of prices) {
    const sku = field(p, 'sku') as string;
    const price = num(field(p, 'price'));
    const type = String(field(p, 'price_type') ?? '');
    const websiteId = num(field(p, 'website_id')) ?? 0;
    const group = String(field(p, 'customer_group') ?? '');
    const qty = num(field(p, 'quantity'));
    const row = [sku ?? null, websiteId, group, qty ?? null];
    const before = failures.length;
    if (!sku || !world.catalog.getProduct(sku)) failures.push({ message: `Invalid attribute SKU = %SKU. ${rowId}`, parameters: row });
    if (price === undefined || Number.isNaN(price) || price < 0 || (type === 'discount' && price > 100)) failures.push({ message: `Invalid attribute Price = %price. ${rowId}`, parameters: [field(p, 'price') as number ?? null, ...row] });
    if (type !== 'fixed' && type !== 'discount') failures.push({ message: `Invalid attribute Price Type = %type. ${rowId}`, parameters: [type, ...row] });
    if (qty === undefined || Number.isNaN(qty) || qty <= 0) failures.push({ message: `Invalid attribute Quantity = %qty. ${rowId}`, parameters: row });
    if (!websiteExists(websiteId)) failures.push({ message: `Invalid attribute Website ID = %websiteId. ${rowId}`, parameters: row });
    if (group.toUpperCase() !== 'ALL GROUPS' && !['0', '1', '2', '3', 'NOT LOGGED IN', 'GENERAL', 'WHOLESALE', 'RETAILER'].includes(group.toUpperCase())) {
      failures.push({ message: `No such entity with Customer Group = %customerGroup. ${rowId}`, parameters: row });
    }
    if (failures.length === before) ok.push({ sku: world.catalog.getProduct(sku)!.sku, price: price!, price_type: type, website_id: websiteId, customer_group: group, quantity: qty! });
  }
  const tiers = world.catalog.tierPrices;
  const same = (a: TierPrice, b: TierPrice): boolean => a.sku.toLowerCase() === b.sku.toLowerCase() && a.website_id === b.website_id && a.customer_group.toLowerCase() === b.customer_group.toLowerCase() && a.quantity === b.quantity;
  if (mode === 'replace') {
    const skus = new Set(ok.map((t) => t.sku.toLowerCase()));
    for (let i = tiers.length - 1; i >= 0; i--) if (skus.has(tiers[i].sku.toLowerCase())) tiers.splice(i, 1);
  }
  for (const t of ok) {
    const i = tiers.findIndex((x) => same(x, t));
    if (mode === 'delete') { if (i >= 0) tiers.splice(i, 1); continue; }
    if (i >= 0) tiers[i] = t; else tiers.push(t);
  }
  return failures;
}

function skusOf(world: World, ctx: RouteContext): string[] {
  const skus = requireParam(ctx.body, 'skus');
  if (!Array.isArray(skus)) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'skus', value: String(skus) });
  // Unknown SKUs are left out of the answer, as Magento's InvalidSkuProcessor::filterSkuList does.
  return skus.map(String).filter((s) => world.catalog.getProduct(s)).map((s) => s.toLowerCase());
}

function shipItems(world: World, ctx: RouteContext, type: string): Array<{ order_item_id: number; qty: number }> | undefined {
  const items = field(ctx.body, 'items');
  if (items === undefined || items === null) return undefined;
  return list(ctx.body, 'items', type, world, ctx).map((i) => ({ order_item_id: Number(field(i, 'order_item_id')), qty: Number(field(i, 'qty')) }));
}

export const ROUTES: Route[] = [
  // Magento_Integration
  { method: 'POST', path: '/integration/admin/token', resource: 'anonymous', handle: (w, c) => w.issueAdminToken(field(c.body, 'username'), field(c.body, 'password')) },
  // Magento_Store
  { method: 'GET', path: '/store/storeConfigs', resource: 'Magento_Backend::store', handle: (w) => storeConfigsBody(w.baseUrl()) },
  { method: 'GET', path: '/store/storeViews', resource: 'Magento_Backend::store', handle: () => storeViewsBody() },
  { method: 'GET', path: '/store/websites', resource: 'Magento_Backend::store', handle: () => WEBSITES },
  // Magento_Sales
  { method: 'GET', path: '/orders', resource: 'Magento_Sales::actions_view', handle: (w, c) => new RawJson(w.orders.listJson(criteria(w, c, true))) },
  { method: 'GET', path: '/orders/:id', resource: 'Magento_Sales::actions_view', handle: (w, c) => w.orders.view(w.orders.get(intParam(c, 'id'))) },
  {
    method: 'GET', path: '/orders/:id/comments', resource: 'Magento_Sales::actions_view',
    handle: (w, c) => { const id = intParam(c, 'id'); return commentsList(id, w.orders.find(id)?.status_histories); },
  },
  {
    method: 'POST', path: '/orders/:id/comments', resource: 'Magento_Sales::comment', topic: 'async.magento.sales.api.ordermanagementinterface.addcomment.post', bodyParam: 'statusHistory',
    handle: (w, c) => {
      const id = orderFor(w, c);
      const history = requireParam(c.body, 'statusHistory') as Obj;
      const r = w.orders.addComment(id, { comment: field(history, 'comment'), status: field(history, 'status'), is_customer_notified: field(history, 'is_customer_notified'), is_visible_on_front: field(history, 'is_visible_on_front') });
      announce(w, 'order.commented', id);
      return r;
    },
  },
  { method: 'POST', path: '/orders/:id/cancel', resource: 'Magento_Sales::cancel', handle: (w, c) => { const id = orderFor(w, c); const r = w.orders.cancel(id); if (r) announce(w, 'order.canceled', id); return r; } },
  { method: 'POST', path: '/orders/:id/hold', resource: 'Magento_Sales::hold', handle: (w, c) => { const id = orderFor(w, c); const r = w.orders.hold(id); announce(w, 'order.held', id); return r; } },
  { method: 'POST', path: '/orders/:id/unhold', resource: 'Magento_Sales::unhold', handle: (w, c) => { const id = orderFor(w, c); const r = w.orders.unhold(id); announce(w, 'order.unheld', id); return r; } },
  {
    method: 'POST', path: '/order/:orderId/ship', resource: 'Magento_Sales::ship', topic: 'async.magento.sales.api.shiporderinterface.execute.post',
    handle: (w, c) => {
      const id = orderFor(w, c, 'orderId');
      const tracks = field(c.body, 'tracks') === undefined ? [] : list(c.body, 'tracks', '\\Magento\\Sales\\Api\\Data\\ShipmentTrackCreationInterface', w, c);
      const shipmentId = w.orders.ship(id, {
        items: shipItems(w, c, '\\Magento\\Sales\\Api\\Data\\ShipmentItemCreationInterface'),
        notify: Boolean(field(c.body, 'notify')),
        appendComment: Boolean(field(c.body, 'appendComment')),
        comment: commentArg(c.body),
        tracks: tracks.map((t) => ({ track_number: String(field(t, 'track_number') ?? ''), title: field(t, 'title') as string, carrier_code: field(t, 'carrier_code') as string })),
      });
      announce(w, 'order.shipped', id);
      return shipmentId;
    },
  },
  {
    method: 'POST', path: '/order/:orderId/invoice', resource: 'Magento_Sales::invoice', topic: 'async.magento.sales.api.invoiceorderinterface.execute.post',
    handle: (w, c) => {
      const id = orderFor(w, c, 'orderId');
      const invoiceId = w.orders.invoice(id, {
        capture: Boolean(field(c.body, 'capture')),
        items: shipItems(w, c, '\\Magento\\Sales\\Api\\Data\\InvoiceItemCreationInterface'),
        notify: Boolean(field(c.body, 'notify')),
        appendComment: Boolean(field(c.body, 'appendComment')),
        comment: commentArg(c.body),
      });
      announce(w, 'order.invoiced', id);
      return invoiceId;
    },
  },
  { method: 'GET', path: '/invoices', resource: 'Magento_Sales::sales_invoice', handle: (w, c) => w.orders.searchDocs('invoice', criteria(w, c, true), DOC_COLUMNS) },
  {
    method: 'GET', path: '/invoices/:id', resource: 'Magento_Sales::sales_invoice',
    handle: (w, c) => { const d = w.orders.findDoc('invoice', intParam(c, 'id')); if (!d) throw new WebapiError(404, "The entity that was requested doesn't exist. Verify the entity and try again."); return d; },
  },
  {
    method: 'GET', path: '/invoices/:id/comments', resource: 'Magento_Sales::sales_invoice',
    handle: (w, c) => { const id = intParam(c, 'id'); return commentsList(id, w.orders.findDoc('invoice', id)?.comments); },
  },
  { method: 'GET', path: '/shipments', resource: 'Magento_Sales::shipment', handle: (w, c) => w.orders.searchDocs('shipment', criteria(w, c, true), DOC_COLUMNS) },
  {
    method: 'GET', path: '/shipment/:id', resource: 'Magento_Sales::shipment',
    handle: (w, c) => { const d = w.orders.findDoc('shipment', intParam(c, 'id')); if (!d) throw new WebapiError(404, "The entity that was requested doesn't exist. Verify the entity and try again."); return d; },
  },
  {
    method: 'GET', path: '/shipment/:id/comments', resource: 'Magento_Sales::shipment',
    handle: (w, c) => { const id = intParam(c, 'id'); return commentsList(id, w.orders.findDoc('shipment', id)?.comments); },
  },
  // Magento_Customer
  {
    method: 'GET', path: '/customers/search', resource: 'Magento_Customer::customer',
    handle: (w, c) => {
      const crit = criteria(w, c, true);
      checkCustomerColumns(crit);
      return searchRows([...w.catalog.customers.values()].map(customerRow), crit, CUSTOMER_COLUMNS, (r) => w.catalog.customers.get(r.entity_id as number) as unknown as Obj);
    },
  },
  {
    method: 'GET', path: '/customers/:id', resource: 'Magento_Customer::customer',
    handle: (w, c) => { const id = intParam(c, 'id'); const cu = w.catalog.customers.get(id); if (!cu) throw noSuchEntity('customerId', id); return cu; },
  },
  // Magento_Catalog
  {
    method: 'GET', path: '/products', resource: 'Magento_Catalog::products',
    handle: (w, c) => {
      // EAV attributes (url_key, tax_class_id, color, ...) filter like columns, as in Magento's product collection.
      const columns = new Set(PRODUCT_COLUMNS.columns);
      const rows = [...w.catalog.products.values()].map((p) => {
        const row: Obj = { ...p, entity_id: p.id, ...(c.storeId ? p.storeValues?.[c.storeId] : undefined) };
        for (const a of p.custom_attributes) { row[a.attribute_code] = a.value; columns.add(a.attribute_code); }
        return row;
      });
      return searchRows(rows, criteria(w, c, true), { columns, dateColumns: PRODUCT_COLUMNS.dateColumns }, productRow(w, c.storeId));
    },
  },
  {
    method: 'GET', path: '/products/:sku', resource: 'Magento_Catalog::products',
    handle: (w, c) => { const p = w.catalog.getProduct(c.params.sku); if (!p) throw productNotFound(); return w.catalog.productView(p, c.storeId, true); },
  },
  { method: 'POST', path: '/products', resource: 'Magento_Catalog::products', topic: 'async.magento.catalog.api.productrepositoryinterface.save.post', bodyParam: 'product', handle: (w, c) => saveProduct(w, c, requireParam(c.body, 'product') as Obj) },
  {
    method: 'PUT', path: '/products/:sku', resource: 'Magento_Catalog::products', topic: 'async.magento.catalog.api.productrepositoryinterface.save.put', bodyParam: 'product', bulkParam: { name: 'sku', from: 'product.sku' },
    handle: (w, c) => saveProduct(w, c, requireParam(c.body, 'product') as Obj, c.params.sku),
  },
  // Magento_CatalogInventory (legacy)
  {
    method: 'GET', path: '/stockItems/:sku', resource: 'Magento_CatalogInventory::cataloginventory',
    handle: (w, c) => { const p = w.catalog.getProduct(c.params.sku); if (!p) throw new WebapiError(404, 'The Product with the "%1" SKU doesn\'t exist.', [c.params.sku]); return w.catalog.stockItem(p); },
  },
  {
    method: 'PUT', path: '/products/:sku/stockItems/:itemId', resource: 'Magento_CatalogInventory::cataloginventory',
    handle: (w, c) => {
      const p = w.catalog.getProduct(c.params.sku);
      if (!p) throw new WebapiError(404, 'The Product with the "%1" SKU doesn\'t exist.', [c.params.sku]);
      setLegacyStock(w, p.sku, requireParam(c.body, 'stockItem') as Obj);
      p.updated_at = magentoDate(w.now());
      return p.id;
    },
  },
  // Magento_InventoryApi (MSI)
  { method: 'POST', path: '/inventory/source-items', resource: 'Magento_InventoryApi::source_item', topic: 'async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post', bodyParam: 'sourceItems', handle: saveSourceItems },
  { method: 'GET', path: '/inventory/source-items', resource: 'Magento_InventoryApi::source_item', handle: (w, c) => searchRows([...w.catalog.sourceItems.values()] as unknown as Obj[], criteria(w, c, true), SOURCE_ITEM_COLUMNS, (r) => ({ ...r })) },
  { method: 'GET', path: '/inventory/sources', resource: 'Magento_InventoryApi::source', handle: (w, c) => searchRows([...w.catalog.sources.values()] as unknown as Obj[], criteria(w, c, false), SOURCE_COLUMNS) },
  {
    method: 'GET', path: '/inventory/sources/:sourceCode', resource: 'Magento_InventoryApi::source',
    handle: (w, c) => { const s = w.catalog.sources.get(c.params.sourceCode); if (!s) throw new WebapiError(404, 'Source with code "%value" does not exist.', { value: c.params.sourceCode }); return s; },
  },
  // Magento_Catalog price storage
  { method: 'POST', path: '/products/base-prices', resource: 'Magento_Catalog::catalog', topic: 'async.magento.catalog.api.basepricestorageinterface.update.post', bodyParam: 'prices', handle: basePrices },
  {
    method: 'POST', path: '/products/base-prices-information', resource: 'Magento_Catalog::catalog',
    handle: (w, c) => skusOf(w, c).flatMap((s) => w.catalog.basePricesFor(s)),
  },
  { method: 'POST', path: '/products/special-price', resource: 'Magento_Catalog::catalog', topic: 'async.magento.catalog.api.specialpricestorageinterface.update.post', bodyParam: 'prices', handle: (w, c) => specialPrices(w, c, false) },
  { method: 'POST', path: '/products/special-price-delete', resource: 'Magento_Catalog::catalog', handle: (w, c) => specialPrices(w, c, true) },
  {
    method: 'POST', path: '/products/special-price-information', resource: 'Magento_Catalog::catalog',
    handle: (w, c) => { const skus = new Set(skusOf(w, c)); return w.catalog.specialPrices.filter((s) => skus.has(s.sku.toLowerCase())); },
  },
  { method: 'POST', path: '/products/tier-prices', resource: 'Magento_Catalog::catalog', topic: 'async.magento.catalog.api.tierpricestorageinterface.update.post', bodyParam: 'prices', handle: (w, c) => tierPrices(w, c, 'update') },
  { method: 'PUT', path: '/products/tier-prices', resource: 'Magento_Catalog::catalog', topic: 'async.magento.catalog.api.tierpricestorageinterface.replace.put', bodyParam: 'prices', handle: (w, c) => tierPrices(w, c, 'replace') },
  { method: 'POST', path: '/products/tier-prices-delete', resource: 'Magento_Catalog::catalog', handle: (w, c) => tierPrices(w, c, 'delete') },
  {
    method: 'POST', path: '/products/tier-prices-information', resource: 'Magento_Catalog::catalog',
    handle: (w, c) => { const skus = new Set(skusOf(w, c)); return w.catalog.tierPrices.filter((t) => skus.has(t.sku.toLowerCase())); },
  },
  // Magento_AsynchronousOperations
  { method: 'GET', path: '/bulk/:uuid/detailed-status', resource: 'Magento_Logging::system_magento_logging_bulk_operations', handle: (w, c) => w.bulk.detailedStatus(c.params.uuid) },
  { method: 'GET', path: '/bulk/:uuid/status', resource: 'Magento_Logging::system_magento_logging_bulk_operations', handle: (w, c) => w.bulk.shortStatus(c.params.uuid) },
  {
    method: 'GET', path: '/bulk/:uuid/operation-status/:status', resource: 'Magento_Logging::system_magento_logging_bulk_operations',
    handle: (w, c) => w.bulk.operationStatus(c.params.uuid, intParam(c, 'status')),
  },
];

for (const r of ROUTES) {
  const keys: string[] = [];
  const pattern = r.path.replace(/\/:([A-Za-z]+)/g, (_, k: string) => { keys.push(k); return '/([^/]+)'; });
  r.regex = new RegExp(`^${pattern}$`);
  r.keys = keys;
}

export interface RouteMatch { route: Route; params: Record<string, string> }

/** Finds the route for a path after `/V1` (still percent-encoded); a literal route wins over a parameter one. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  let found: RouteMatch | undefined;
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.regex!.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    let ok = true;
    route.keys!.forEach((k, i) => {
      try { params[k] = decodeURIComponent(m[i + 1]); } catch { ok = false; }
    });
    if (!ok) continue;
    if (!found || route.keys!.length < found.route.keys!.length) found = { route, params };
  }
  return found;
}

export function hasBodyParam(body: unknown, name: string): boolean {
  return field(body, name) !== undefined && field(body, name) !== null;
}

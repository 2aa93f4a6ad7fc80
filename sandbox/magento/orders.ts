/**
 * The order book. Seeded orders are never stored: order i (entity_id i+1) is rebuilt from (seed, i)
 * when asked, and its created_at/updated_at grow strictly with i, so id and date filters map to index
 * ranges by binary search. Only orders that changed (or were placed while running) live in `overlay`,
 * with timestamps later than every seeded one. A list is then a merge of a virtual, already-sorted range
 * and a small sorted overlay: a page of 300 out of 100 000 costs 300 builds, not 100 000.
 */
import type { Catalog } from './catalog';
import { magentoDate } from './dates';
import { KIND, Rng, hash32 } from './prng';
import { invoiceDocument, shipmentDocument } from './documents';
import { buildOrder, drawCustomer, incrementIdFor, round2, snapshotLines, syncAssignmentItems, type LineProduct, type Order, type OrderItem, type SeedState } from './order-factory';
import { compileCriteria, compileFilter, comparator, echoCriteria, effectivePage, searchRows, type ColumnSpec, type Criteria, type Row, type SearchResult } from './search';
import { WebapiError, entityNotFound } from './webapi-error';
import type { Filter } from '../../lib/magento/types';

/** First seeded order time; orders follow every ~10 minutes. */
export const ORDER_EPOCH = Date.UTC(2024, 0, 1, 0, 0, 0);
const STEP_MS = 600_000;

export type OrderEvent = 'order.placed' | 'order.updated' | 'order.invoiced' | 'order.shipped' | 'order.canceled' | 'order.held' | 'order.unheld' | 'order.commented';

export interface ShipRequest {
  items?: Array<{ order_item_id: number; qty: number }>;
  notify?: boolean;
  appendComment?: boolean;
  comment?: { comment?: string; is_visible_on_front?: number | boolean };
  tracks?: Array<{ track_number: string; title?: string; carrier_code?: string }>;
}

export interface InvoiceRequest {
  capture?: boolean;
  items?: Array<{ order_item_id: number; qty: number }>;
  notify?: boolean;
  appendComment?: boolean;
  comment?: { comment?: string; is_visible_on_front?: number | boolean };
}

/** Magento's default statuses per state (sales_order_status_state). */
export const STATE_STATUSES: Readonly<Record<string, readonly string[]>> = {
  new: ['pending'], pending_payment: ['pending_payment'], processing: ['processing', 'fraud'], complete: ['complete'],
  closed: ['closed'], canceled: ['canceled'], holded: ['holded'], payment_review: ['payment_review', 'fraud'],
};

const MONOTONIC = new Set(['entity_id', 'created_at', 'updated_at']);
const HEADER_COLUMNS = new Set(['entity_id', 'created_at', 'updated_at', 'state', 'status', 'increment_id', 'store_id', 'customer_id',
  'customer_is_guest', 'customer_group_id', 'customer_email', 'customer_firstname', 'customer_lastname', 'order_currency_code',
  'base_currency_code', 'store_currency_code']);
const RANGE_CONDITIONS = new Set(['eq', 'gt', 'gteq', 'lt', 'lteq', 'from', 'to', 'moreq']);
const LOWER_BOUNDS = new Set(['gt', 'gteq', 'from', 'moreq']);
const UPPER_BOUNDS = new Set(['lt', 'lteq', 'to']);
/** Above this many candidate seeded orders, residual filters go through a cached prefix-count index. */
const INDEX_THRESHOLD = 2000;
const DATE_COLUMNS = new Set(['created_at', 'updated_at', 'customer_dob']);

/**
 * Magento's DataObjectProcessor leaves null fields out of the output. Done on the JSON text: a `"`
 * inside a JSON string is always escaped, so `,"key":null` can only be a real member (a replacer
 * function would make JSON.stringify several times slower on the hot path).
 */
export function withoutNulls(json: string): string {
  return json.replace(/,"[A-Za-z0-9_]+":null(?=[,}])/g, '').replace(/\{"[A-Za-z0-9_]+":null(?:,(?=")|(?=\}))/g, '{');
}

function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== null && v !== undefined) out[k] = stripNulls(v);
    }
    return out;
  }
  return value;
}

/** Small LRU over a Map (insertion order = recency). */
class Lru<V> {
  private readonly map = new Map<number, V>();
  constructor(private readonly max: number) {}
  get(k: number): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) { this.map.delete(k); this.map.set(k, v); }
    return v;
  }
  set(k: number, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as number);
  }
  delete(k: number): void { this.map.delete(k); }
  clear(): void { this.map.clear(); }
}

/** LRU of JSON strings bounded by their total length, so memory stays flat whatever is read. */
class JsonLru {
  private readonly map = new Map<number, string>();
  private chars = 0;
  constructor(private readonly maxChars: number) {}
  get(k: number): string | undefined {
    const v = this.map.get(k);
    if (v !== undefined) { this.map.delete(k); this.map.set(k, v); }
    return v;
  }
  set(k: number, v: string): void {
    this.delete(k);
    this.map.set(k, v);
    this.chars += v.length;
    while (this.chars > this.maxChars && this.map.size > 1) this.delete(this.map.keys().next().value as number);
  }
  delete(k: number): void {
    const v = this.map.get(k);
    if (v !== undefined) { this.chars -= v.length; this.map.delete(k); }
  }
}

export class OrderBook {
  readonly seededCount: number;
  private readonly lines: LineProduct[];
  private readonly stepMs: number;
  /** Changed seeded orders and orders placed at run time, by entity_id. */
  private readonly overlay = new Map<number, Order>();
  /** Seeded indexes present in the overlay, kept sorted for range arithmetic. */
  private readonly mutated: number[] = [];
  // Built orders are kept briefly (actions read them again); their JSON longer: strings cost the GC nothing.
  private readonly cache = new Lru<Order>(256);
  private readonly jsonCache: JsonLru;
  private readonly prefixes = new Map<string, Int32Array>();
  private readonly invoiceDocs = new Map<number, Order[]>();
  private readonly shipmentDocs = new Map<number, Order[]>();
  private nextEntityId: number;
  private nextInvoiceId: number;
  private nextShipmentId: number;
  private placedCount = 0;
  private lastChangeMs = 0;
  readonly columns: ColumnSpec;
  /** Custom statuses assigned to states (Stores > Order Status > Assign Status to State), beside the defaults. */
  customStatuses: Readonly<Record<string, readonly string[]>> = {};

  constructor(private readonly seed: number, count: number, private readonly catalog: Catalog, private readonly now: () => number = Date.now, jsonCacheMb = 48) {
    this.seededCount = Math.max(0, Math.floor(count));
    this.jsonCache = new JsonLru(jsonCacheMb * 1024 * 1024);
    this.lines = snapshotLines(catalog);
    // Keep every seeded order in the past, however many there are.
    const span = Math.max(1, this.now() - 86_400_000 - ORDER_EPOCH);
    this.stepMs = Math.max(2000, Math.min(STEP_MS, Math.floor(span / Math.max(1, this.seededCount))));
    this.nextEntityId = this.seededCount + 1;
    this.nextInvoiceId = this.seededCount + 1;
    this.nextShipmentId = this.seededCount + 1;
    const template = this.seededCount ? this.seeded(0) : this.build(Rng.for(seed, KIND.placed, 0), 1, ORDER_EPOCH, ORDER_EPOCH, 'new');
    // Nullable columns are absent from a built order but still exist in sales_order.
    const cols = new Set<string>(['customer_id', 'customer_dob', 'customer_gender', 'customer_note', 'coupon_code', 'discount_description',
      'ext_order_id', 'hold_before_state', 'hold_before_status', 'customer_prefix', 'customer_middlename', 'customer_suffix', 'customer_taxvat']);
    for (const [k, v] of Object.entries(template)) if (v === null || typeof v !== 'object') cols.add(k);
    this.columns = { columns: cols, dateColumns: DATE_COLUMNS };
  }

  // ---- seeded orders -------------------------------------------------------------------------

  createdMs(i: number): number {
    const half = Math.floor(this.stepMs / 2000);
    return ORDER_EPOCH + i * this.stepMs + (hash32(this.seed, KIND.orderTime, i) % half) * 1000;
  }

  updatedMs(i: number): number {
    const half = Math.floor(this.stepMs / 2000);
    return ORDER_EPOCH + i * this.stepMs + half * 1000 + (hash32(this.seed, KIND.orderTime, i, 1) % half) * 1000;
  }

  private seededKey(i: number, field: string): string | number {
    if (field === 'entity_id') return i + 1;
    return magentoDate(field === 'created_at' ? this.createdMs(i) : this.updatedMs(i));
  }

  private seedState(i: number): SeedState {
    const x = hash32(this.seed, KIND.order, i, 7) % 100;
    // Older orders are further along, as in a real store.
    const age = this.seededCount > 1 ? 1 - i / (this.seededCount - 1) : 0;
    if (x < 6) return 'canceled';
    if (x < 9) return 'holded';
    if (x < 9 + 55 * age + 10) return 'complete';
    if (x < 9 + 55 * age + 40) return 'processing';
    return 'new';
  }

  private build(rng: Rng, entityId: number, createdMs: number, updatedMs: number, state: SeedState): Order {
    const order = buildOrder(rng, { entityId, createdMs, updatedMs, state, lines: this.lines, customers: this.catalog.customers });
    const at = magentoDate(updatedMs);
    if (state === 'processing' || state === 'complete') {
      for (const it of order.items as OrderItem[]) {
        it.qty_invoiced = it.qty_ordered;
        it.row_invoiced = it.row_total; it.base_row_invoiced = it.base_row_total;
        it.tax_invoiced = it.tax_amount; it.base_tax_invoiced = it.base_tax_amount;
        it.discount_invoiced = it.discount_amount; it.base_discount_invoiced = it.base_discount_amount;
        if (state === 'complete') it.qty_shipped = it.qty_ordered;
        it.updated_at = at;
      }
      this.markInvoiced(order, order.grand_total, order.base_grand_total);
      order.subtotal_invoiced = order.subtotal; order.base_subtotal_invoiced = order.base_subtotal;
      order.tax_invoiced = order.tax_amount; order.base_tax_invoiced = order.base_tax_amount;
      order.shipping_invoiced = order.shipping_amount; order.base_shipping_invoiced = order.base_shipping_amount;
      order.discount_invoiced = order.discount_amount; order.base_discount_invoiced = order.base_discount_amount;
      order.state = state; order.status = state;
      order.status_histories.unshift(this.history(order, at, `Captured amount of ${order.grand_total} ${order.order_currency_code} online.`, state, 'invoice'));
      if (state === 'complete') order.status_histories.unshift(this.history(order, at, undefined, 'complete', 'shipment'));
    } else if (state === 'canceled') {
      for (const it of order.items as OrderItem[]) { it.qty_canceled = it.qty_ordered; it.updated_at = at; }
      order.state = 'canceled'; order.status = 'canceled';
      order.total_canceled = order.grand_total; order.base_total_canceled = order.base_grand_total;
      order.status_histories.unshift(this.history(order, at, 'Canceled by the customer.', 'canceled', 'order'));
    } else if (state === 'holded') {
      order.hold_before_state = 'new'; order.hold_before_status = 'pending';
      order.state = 'holded'; order.status = 'holded';
    }
    syncAssignmentItems(order);
    return order;
  }

  private markInvoiced(order: Order, amount: number, baseAmount: number): void {
    order.total_invoiced = round2(order.total_invoiced + amount); order.base_total_invoiced = round2(order.base_total_invoiced + baseAmount);
    order.total_paid = round2(order.total_paid + amount); order.base_total_paid = round2(order.base_total_paid + baseAmount);
    order.total_due = round2(order.grand_total - order.total_paid); order.base_total_due = round2(order.base_grand_total - order.base_total_paid);
    order.payment.amount_paid = order.total_paid; order.payment.base_amount_paid = order.base_total_paid;
  }

  private history(order: Order, at: string, comment: string | undefined, status: string, entityName: string, notified = 0, visible = 0): Record<string, unknown> {
    const n = order.status_histories.length;
    return { comment, created_at: at, entity_id: order.entity_id * 100 + n + 1, entity_name: entityName, is_customer_notified: notified, is_visible_on_front: visible, parent_id: order.entity_id, status };
  }

  /** The columns of seeded order i that need no build (its state comes from the seed alone). */
  private header(i: number): Row {
    const state = this.seedState(i);
    const who = drawCustomer(Rng.for(this.seed, KIND.order, i), i + 1, this.catalog.customers);
    return {
      entity_id: i + 1, created_at: magentoDate(this.createdMs(i)), updated_at: magentoDate(this.updatedMs(i)), state, status: state === 'new' ? 'pending' : state,
      increment_id: incrementIdFor(i + 1, who.store.id), store_id: who.store.id, customer_id: who.customer?.id,
      customer_is_guest: who.customer ? 0 : 1, customer_group_id: who.customer ? who.customer.group_id : 0, customer_email: who.email,
      customer_firstname: who.firstname, customer_lastname: who.lastname, order_currency_code: who.store.default_display_currency_code,
      base_currency_code: who.store.base_currency_code, store_currency_code: who.store.base_currency_code,
    };
  }

  private seeded(i: number): Order {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const order = this.build(Rng.for(this.seed, KIND.order, i), i + 1, this.createdMs(i), this.updatedMs(i), this.seedState(i));
    this.cache.set(i, order);
    return order;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** The order as stored (do not mutate; use `mutable`). */
  find(entityId: number): Order | undefined {
    const o = this.overlay.get(entityId);
    if (o) return o;
    if (Number.isInteger(entityId) && entityId >= 1 && entityId <= this.seededCount) return this.seeded(entityId - 1);
    return undefined;
  }

  get(entityId: number): Order {
    const o = this.find(entityId);
    if (!o) throw entityNotFound();
    return o;
  }

  /** Magento's output: null fields left out. */
  view(order: Order): Row {
    return JSON.parse(this.json(order.entity_id)) as Row;
  }

  /** JSON of `GET /V1/orders/{id}`, cached: the hot path of the benchmark. */
  json(entityId: number): string {
    const hit = this.jsonCache.get(entityId);
    if (hit !== undefined) return hit;
    // Built orders hold `undefined`, never null, for absent values (JSON leaves them out, as Magento does);
    // changed orders may carry a null from a request body, so they go through the slower clean-up.
    const s = this.overlay.has(entityId) ? withoutNulls(JSON.stringify(this.get(entityId))) : JSON.stringify(this.get(entityId));
    this.jsonCache.set(entityId, s);
    return s;
  }

  /** `GET /V1/orders` as JSON text, built from the per-order JSON (no parse, no copy). */
  listJson(c: Criteria): string {
    const r = this.list(c);
    return `{"items":[${(r.items as unknown as number[]).map((id) => this.json(id)).join(',')}],"search_criteria":${JSON.stringify(r.search_criteria)},"total_count":${r.total_count}}`;
  }

  /** `GET /V1/orders` as objects. */
  listRows(c: Criteria): SearchResult {
    const r = this.list(c);
    return { ...r, items: (r.items as unknown as number[]).map((id) => JSON.parse(this.json(id)) as Row) };
  }

  get size(): number {
    return this.nextEntityId - 1;
  }

  /** Count of orders placed at run time. */
  get placed(): number {
    return this.placedCount;
  }

  // ---- list with searchCriteria -----------------------------------------------------------------

  /** One page of entity ids (as `items`) with total_count and the echoed criteria. */
  private list(c: Criteria): SearchResult {
    const spec = this.columns;
    const full = compileCriteria(c, spec); // also validates every column name
    const cmp = comparator(c.sortOrders, spec);
    // 1. Narrow the seeded index range with single-filter groups on monotonic columns.
    let lo = 0;
    let hi = this.seededCount;
    const residual: Filter[][] = [];
    for (const group of c.filterGroups) {
      if (!group.length) continue;
      const f = group[0];
      if (group.length === 1 && MONOTONIC.has(f.field) && RANGE_CONDITIONS.has(f.conditionType ?? 'eq')) {
        const pred = compileFilter(f, spec);
        const test = (i: number): boolean => pred({ [f.field]: this.seededKey(i, f.field) });
        const cond = f.conditionType ?? 'eq';
        if (cond === 'gt' || cond === 'gteq' || cond === 'from' || cond === 'moreq') lo = Math.max(lo, this.firstTrue(lo, hi, test));
        else if (cond === 'lt' || cond === 'lteq' || cond === 'to') hi = Math.min(hi, this.firstTrue(lo, hi, (i) => !test(i)));
        else {
          const start = this.firstTrue(lo, hi, (i) => this.compareKey(i, f.field, f.value) >= 0);
          const end = this.firstTrue(start, hi, (i) => this.compareKey(i, f.field, f.value) > 0);
          lo = start; hi = Math.max(start, end);
          for (let i = lo; i < hi; i++) if (!test(i)) { lo = hi; break; }
        }
      } else if (group.every((g) => MONOTONIC.has(g.field) && LOWER_BOUNDS.has(g.conditionType ?? 'eq'))) {
        // OR of lower bounds on monotonic columns: a suffix, from the earliest start (the keyset cursor's group).
        let start = hi;
        for (const g of group) {
          const pred = compileFilter(g, spec);
          start = Math.min(start, this.firstTrue(lo, hi, (i) => pred({ [g.field]: this.seededKey(i, g.field) })));
        }
        lo = Math.max(lo, start);
      } else if (group.every((g) => MONOTONIC.has(g.field) && UPPER_BOUNDS.has(g.conditionType ?? 'eq'))) {
        let end = lo;
        for (const g of group) {
          const pred = compileFilter(g, spec);
          end = Math.max(end, this.firstTrue(lo, hi, (i) => !pred({ [g.field]: this.seededKey(i, g.field) })));
        }
        hi = Math.min(hi, end);
      } else residual.push(group);
    }
    if (hi < lo) hi = lo;
    const residualPred = residual.length ? compileCriteria({ filterGroups: residual, present: true }, spec) : undefined;
    // Filters and sorts on header columns are answered without building the seeded orders.
    const cheap = residual.every((g) => g.every((f) => HEADER_COLUMNS.has(f.field))) && (c.sortOrders ?? []).every((so) => HEADER_COLUMNS.has(so.field));
    const rowOf = (i: number): Row => (cheap ? this.header(i) : this.seeded(i));

    // 2. Overlay orders: full predicate, sorted.
    const overlay = [...this.overlay.values()].filter((o) => full(o));
    const first = c.sortOrders?.[0];
    const monotonicSort = !first || MONOTONIC.has(first.field);
    const sortField = first?.field ?? 'entity_id';
    const desc = first?.direction === 'DESC';
    const overlayCmp = cmp ?? ((a: Row, b: Row) => (a.entity_id as number) - (b.entity_id as number));

    if (!monotonicSort) return this.listBySort(c, lo, hi, residualPred, overlay, overlayCmp, rowOf);

    overlay.sort(overlayCmp);
    // 3. The seeded side as a rank → index function.
    const mLo = this.lowerBound(this.mutated, lo);
    const mHi = this.lowerBound(this.mutated, hi);
    let seededAt: (rank: number) => number;
    let seededTotal: number;
    if (!residualPred) {
      seededTotal = hi - lo - (mHi - mLo);
      seededAt = (rank) => this.nthFree(lo, rank, mLo);
    } else if (hi - lo > INDEX_THRESHOLD) {
      // Seeded data never changes: count matches once per filter, then every page is a binary search.
      const prefix = this.prefixIndex(JSON.stringify([residual, cheap]), residualPred, rowOf);
      const matchedMutated: number[] = [];
      for (let m = mLo; m < mHi; m++) {
        const i = this.mutated[m];
        if (prefix[i + 1] - prefix[i] === 1) matchedMutated.push(i);
      }
      seededTotal = prefix[hi] - prefix[lo] - matchedMutated.length;
      const matchAt = (g: number): number => this.firstTrue(0, this.seededCount, (k) => prefix[k + 1] > g);
      seededAt = (rank) => {
        let g = prefix[lo] + rank;
        let idx = matchAt(g);
        for (let m = 0; m < matchedMutated.length && matchedMutated[m] <= idx; m++) idx = matchAt(++g);
        return idx;
      };
    } else {
      const matches: number[] = [];
      let m = mLo;
      for (let i = lo; i < hi; i++) {
        if (m < mHi && this.mutated[m] === i) { m++; continue; }
        if (residualPred(rowOf(i))) matches.push(i);
      }
      seededTotal = matches.length;
      seededAt = (rank) => matches[rank];
    }
    const at = (rank: number): number => seededAt(desc ? seededTotal - 1 - rank : rank);
    // 4. Where each overlay order falls among the seeded ones.
    const positions = overlay.map((o, j) => {
      const key = o[sortField];
      // Number of seeded orders placed before o in the requested direction.
      let a = 0; let b = seededTotal;
      while (a < b) {
        const mid = (a + b) >>> 1;
        const k = this.seededKey(at(mid), sortField);
        const before = desc ? cmpKeys(k, key) > 0 : cmpKeys(k, key) <= 0;
        if (before) a = mid + 1; else b = mid;
      }
      return a + j;
    });
    const total = seededTotal + overlay.length;
    const { offset, limit } = effectivePage(total, c.pageSize, c.currentPage);
    const end = Math.min(total, offset + limit);
    const items: unknown[] = [];
    let j = 0;
    while (j < positions.length && positions[j] < offset) j++;
    for (let p = offset; p < end; p++) {
      if (j < positions.length && positions[j] === p) { items.push(overlay[j].entity_id); j++; continue; }
      const rank = p - j;
      items.push(at(rank) + 1);
    }
    return { items: items as Row[], search_criteria: echoCriteria(c), total_count: total };
  }

  /** Sort by a non-monotonic column: keep (key, id) pairs only, sort, then build the page. */
  private listBySort(c: Criteria, lo: number, hi: number, residualPred: ((r: Row) => boolean) | undefined, overlay: Order[], cmp: (a: Row, b: Row) => number, rowOf: (i: number) => Row): SearchResult {
    const fields = (c.sortOrders ?? []).map((s) => s.field);
    const refs: Row[] = [];
    const project = (o: Order): Row => {
      const r: Row = { entity_id: o.entity_id };
      for (const f of fields) r[f] = o[f];
      return r;
    };
    let m = this.lowerBound(this.mutated, lo);
    for (let i = lo; i < hi; i++) {
      if (m < this.mutated.length && this.mutated[m] === i) { m++; continue; }
      const o = rowOf(i);
      if (!residualPred || residualPred(o)) refs.push(project(o));
    }
    for (const o of overlay) refs.push(project(o));
    refs.sort((a, b) => cmp(a, b) || (a.entity_id as number) - (b.entity_id as number));
    const { offset, limit } = effectivePage(refs.length, c.pageSize, c.currentPage);
    const items = refs.slice(offset, offset + limit).map((r) => r.entity_id) as unknown as Row[];
    return { items, search_criteria: echoCriteria(c), total_count: refs.length };
  }

  private compareKey(i: number, field: string, value: unknown): number {
    return cmpKeys(this.seededKey(i, field), field === 'entity_id' ? value : normalizeDate(String(value)));
  }

  /** prefix[k] = how many seeded orders among 0..k-1 match (their seeded state, whatever changed since). */
  private prefixIndex(key: string, pred: (r: Row) => boolean, rowOf: (i: number) => Row): Int32Array {
    const hit = this.prefixes.get(key);
    if (hit) return hit;
    const prefix = new Int32Array(this.seededCount + 1);
    for (let i = 0; i < this.seededCount; i++) prefix[i + 1] = prefix[i] + (pred(rowOf(i)) ? 1 : 0);
    this.prefixes.set(key, prefix);
    if (this.prefixes.size > 8) this.prefixes.delete(this.prefixes.keys().next().value as string);
    return prefix;
  }

  /** Smallest i in [lo, hi) with test(i) true (test monotone false→true), else hi. */
  private firstTrue(lo: number, hi: number, test: (i: number) => boolean): number {
    let a = lo; let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (test(mid)) b = mid; else a = mid + 1;
    }
    return a;
  }

  private lowerBound(arr: number[], x: number): number {
    let a = 0; let b = arr.length;
    while (a < b) { const mid = (a + b) >>> 1; if (arr[mid] < x) a = mid + 1; else b = mid; }
    return a;
  }

  /** The rank-th seeded index ≥ lo that is not in the overlay. */
  private nthFree(lo: number, rank: number, mStart: number): number {
    let idx = lo + rank;
    let m = mStart;
    // Each mutated index at or below the candidate pushes it one further.
    while (m < this.mutated.length && this.mutated[m] <= idx) { idx++; m++; }
    return idx;
  }

  // ---- changes -------------------------------------------------------------------------------

  private stamp(): string {
    // Strictly later than any seeded order and never going backwards.
    const ms = Math.max(this.now(), this.lastChangeMs, this.seededCount ? this.updatedMs(this.seededCount - 1) + 1000 : 0);
    this.lastChangeMs = ms;
    return magentoDate(ms);
  }

  /** The order, moved into the overlay so it can change. */
  mutable(entityId: number): Order {
    const existing = this.overlay.get(entityId);
    if (existing) return existing;
    const seeded = this.find(entityId);
    if (!seeded) throw entityNotFound();
    const copy = structuredClone(seeded);
    this.overlay.set(entityId, copy);
    const i = entityId - 1;
    this.mutated.splice(this.lowerBound(this.mutated, i), 0, i);
    this.cache.delete(i);
    return copy;
  }

  private touched(order: Order, at: string): void {
    order.updated_at = at;
    this.jsonCache.delete(order.entity_id);
    syncAssignmentItems(order);
  }

  /** Places `n` new orders (state new / pending), deterministic from the seed and their count. */
  place(n: number): Order[] {
    const out: Order[] = [];
    for (let k = 0; k < n; k++) {
      const id = this.nextEntityId++;
      const at = Date.parse(this.stamp().replace(' ', 'T') + 'Z');
      const order = this.build(Rng.for(this.seed, KIND.placed, this.placedCount++), id, at, at, 'new');
      order.status_histories = [];
      this.overlay.set(id, order);
      out.push(order);
    }
    return out;
  }

  // ---- invoices and shipments ----------------------------------------------------------------

  private seededInvoices(entityId: number): Order[] {
    if (entityId > this.seededCount) return [];
    const o = this.seeded(entityId - 1);
    if (o.state !== 'processing' && o.state !== 'complete') return [];
    const qtys = new Map<number, number>((o.items as OrderItem[]).map((it) => [it.item_id, it.qty_ordered]));
    return [invoiceDocument(o, entityId, qtys, true, o.updated_at, true)];
  }

  private seededShipments(entityId: number): Order[] {
    if (entityId > this.seededCount) return [];
    const o = this.seeded(entityId - 1);
    if (o.state !== 'complete') return [];
    const qtys = new Map<number, number>((o.items as OrderItem[]).filter((it) => !it.parent_item_id).map((it) => [it.item_id, it.qty_ordered]));
    return [shipmentDocument(o, entityId, qtys, [], o.updated_at)];
  }

  invoicesOf(entityId: number): Order[] {
    return this.invoiceDocs.get(entityId) ?? this.seededInvoices(entityId);
  }

  shipmentsOf(entityId: number): Order[] {
    return this.shipmentDocs.get(entityId) ?? this.seededShipments(entityId);
  }

  /** Every invoice (or shipment) matching `c`; narrows to the named orders when an order_id filter allows. */
  searchDocs(kind: 'invoice' | 'shipment', c: Criteria, spec: ColumnSpec): SearchResult {
    let orderIds: number[] | undefined;
    for (const group of c.filterGroups) {
      if (group.length === 1 && group[0].field === 'order_id' && (group[0].conditionType ?? 'eq') === 'eq') orderIds = [Number(group[0].value)];
      else if (group.length === 1 && group[0].field === 'order_id' && group[0].conditionType === 'in') orderIds = (group[0].value as Array<string | number>).map(Number);
    }
    const of = kind === 'invoice' ? (id: number) => this.invoicesOf(id) : (id: number) => this.shipmentsOf(id);
    const docs = kind === 'invoice' ? this.invoiceDocs : this.shipmentDocs;
    const seededStates = kind === 'invoice' ? ['processing', 'complete'] : ['complete'];
    const self = this;
    // Documents in entity_id order without holding them all: seeded documents share their order's id.
    function* all(): Generator<Row> {
      if (orderIds) {
        for (const id of orderIds) if (self.find(id)) yield* of(id);
        return;
      }
      for (let i = 0; i < self.seededCount; i++) {
        if (!seededStates.includes(self.seedState(i))) continue;
        for (const d of of(i + 1)) if (d.entity_id <= self.seededCount) yield d;
      }
      const created: Row[] = [];
      for (const list of docs.values()) for (const d of list) if ((d.entity_id as number) > self.seededCount) created.push(d);
      created.sort((a, b) => (a.entity_id as number) - (b.entity_id as number));
      yield* created;
    }
    const view = (r: Row): Row => stripNulls(r) as Row;
    if (c.sortOrders?.length) return searchRows(all(), c, spec, view);
    // No sort: count first, then keep only the page (the last page when past the end, as Magento does).
    const pred = compileCriteria(c, spec);
    let total = 0;
    for (const r of all()) if (pred(r)) total++;
    const { offset, limit } = effectivePage(total, c.pageSize, c.currentPage);
    const items: Row[] = [];
    let n = 0;
    for (const r of all()) {
      if (!pred(r)) continue;
      if (n >= offset && items.length < limit) items.push(view(r));
      if (++n >= offset + limit) break;
    }
    return { items, search_criteria: echoCriteria(c), total_count: total };
  }

  findDoc(kind: 'invoice' | 'shipment', id: number): Order | undefined {
    const docs = kind === 'invoice' ? this.invoiceDocs : this.shipmentDocs;
    for (const list of docs.values()) for (const d of list) if (d.entity_id === id) return d;
    if (id >= 1 && id <= this.seededCount) {
      const overridden = docs.get(id);
      if (!overridden) return (kind === 'invoice' ? this.seededInvoices(id) : this.seededShipments(id))[0];
    }
    return undefined;
  }

  // ---- actions -------------------------------------------------------------------------------

  private qtyToShip(it: OrderItem): number {
    return Math.max(0, it.qty_ordered - it.qty_shipped - it.qty_refunded - it.qty_canceled);
  }

  private qtyToInvoice(it: OrderItem): number {
    return Math.max(0, it.qty_ordered - it.qty_invoiced - it.qty_canceled);
  }

  private resolveState(order: Order): void {
    if (order.state === 'canceled' || order.state === 'holded' || order.state === 'closed') return;
    const lines = (order.items as OrderItem[]).filter((it) => !it.parent_item_id);
    const allShipped = lines.every((it) => this.qtyToShip(it) === 0);
    const allInvoiced = lines.every((it) => this.qtyToInvoice(it) === 0);
    const anyDone = lines.some((it) => it.qty_shipped > 0 || it.qty_invoiced > 0);
    if (allShipped && allInvoiced) { order.state = 'complete'; order.status = 'complete'; }
    else if (anyDone) { order.state = 'processing'; order.status = 'processing'; }
  }

  /** Children of a configurable follow their parent's quantities. */
  private applyToChildren(order: Order, parentId: number, field: 'qty_shipped' | 'qty_invoiced' | 'qty_canceled', at: string): void {
    const parent = (order.items as OrderItem[]).find((it) => it.item_id === parentId)!;
    for (const it of order.items as OrderItem[]) {
      if (it.parent_item_id === parentId) {
        it[field] = parent[field]; it.updated_at = at;
        it.parent_item = { ...parent };
        delete it.parent_item.parent_item;
      }
    }
  }

  private lineFor(order: Order, itemId: number): OrderItem | undefined {
    const it = (order.items as OrderItem[]).find((x) => x.item_id === itemId);
    if (it?.parent_item_id) return (order.items as OrderItem[]).find((x) => x.item_id === it.parent_item_id);
    return it;
  }

  ship(entityId: number, req: ShipRequest): number {
    const current = this.get(entityId);
    const messages: string[] = [];
    const stateOk = !['payment_review', 'holded', 'canceled'].includes(current.state) && !current.is_virtual;
    if (!stateOk) messages.push(`A shipment cannot be created when an order has a status of ${current.status}`);
    else if (!(current.items as OrderItem[]).some((it) => !it.parent_item_id && this.qtyToShip(it) > 0)) messages.push('The order does not allow a shipment to be created.');
    const qtys = new Map<number, number>();
    if (req.items && req.items.length) {
      let total = 0;
      for (const r of req.items) {
        const it = this.lineFor(current, Number(r.order_item_id));
        const qty = Number(r.qty);
        if (!it) { messages.push(`We can not found item "${r.order_item_id}" in order.`); continue; }
        const already = qtys.get(it.item_id) ?? 0;
        if (!(qty >= 0) || already + qty > this.qtyToShip(it)) messages.push(`We found an invalid quantity to ship for item "${it.name}".`);
        else { qtys.set(it.item_id, already + qty); total += qty; }
      }
      if (total <= 0) messages.push("You can't create a shipment without products.");
    } else {
      for (const it of current.items as OrderItem[]) if (!it.parent_item_id && this.qtyToShip(it) > 0) qtys.set(it.item_id, this.qtyToShip(it));
      if (!qtys.size && stateOk && !messages.length) messages.push("You can't create a shipment without products.");
    }
    if (messages.length) throw new WebapiError(400, 'Shipment Document Validation Error(s):\n' + [...new Set(messages)].join('\n'));
    const order = this.mutable(entityId);
    const at = this.stamp();
    for (const [itemId, qty] of qtys) {
      const it = (order.items as OrderItem[]).find((x) => x.item_id === itemId)!;
      it.qty_shipped += qty; it.updated_at = at;
      if (it.product_type === 'configurable') this.applyToChildren(order, itemId, 'qty_shipped', at);
    }
    const id = this.nextShipmentId++;
    if (!this.shipmentDocs.has(entityId)) this.shipmentDocs.set(entityId, [...this.seededShipments(entityId)]);
    const doc = shipmentDocument(order, id, qtys, req.tracks, at);
    if (req.notify) doc.email_sent = 1;
    if (addDocumentComment(doc, id, req, at)) { doc.customer_note = String(req.comment!.comment); doc.customer_note_notify = 1; }
    this.shipmentDocs.get(entityId)!.push(doc);
    this.resolveState(order);
    this.touched(order, at);
    return id;
  }

  invoice(entityId: number, req: InvoiceRequest): number {
    const current = this.get(entityId);
    const canInvoice = !['payment_review', 'holded', 'canceled', 'complete', 'closed'].includes(current.state)
      && (current.items as OrderItem[]).some((it) => !it.parent_item_id && this.qtyToInvoice(it) > 0);
    if (!canInvoice) throw new WebapiError(400, 'Invoice Document Validation Error(s):\n' + `An invoice cannot be created when an order has a status of ${current.status}.`);
    const qtys = new Map<number, number>();
    if (req.items && req.items.length) {
      for (const r of req.items) {
        const it = this.lineFor(current, Number(r.order_item_id));
        if (!it) throw new WebapiError(400, 'Invoice Document Validation Error(s):\n' + 'The invoice contains one or more items that are not part of the original order.');
        const qty = Number(r.qty);
        const already = qtys.get(it.item_id) ?? 0;
        if (!(qty >= 0) || already + qty > this.qtyToInvoice(it)) throw new WebapiError(400, 'We found an invalid quantity to invoice item "%1".', [it.name]);
        if (qty > 0) qtys.set(it.item_id, already + qty);
      }
    } else {
      for (const it of current.items as OrderItem[]) if (!it.parent_item_id && this.qtyToInvoice(it) > 0) qtys.set(it.item_id, this.qtyToInvoice(it));
    }
    if (!qtys.size) throw new WebapiError(400, 'Invoice Document Validation Error(s):\n' + "The invoice can't be created without products. Add products and try again.");
    const order = this.mutable(entityId);
    const at = this.stamp();
    const firstInvoice = this.invoicesOf(entityId).length === 0 && order.total_invoiced === 0;
    const id = this.nextInvoiceId++;
    const doc = invoiceDocument(order, id, qtys, firstInvoice, at);
    for (const line of doc.items as OrderItem[]) {
      const it = (order.items as OrderItem[]).find((x) => x.item_id === line.order_item_id)!;
      it.qty_invoiced += line.qty; it.updated_at = at;
      it.row_invoiced = round2(it.row_invoiced + line.row_total); it.base_row_invoiced = round2(it.base_row_invoiced + line.base_row_total);
      it.tax_invoiced = round2(it.tax_invoiced + line.tax_amount); it.base_tax_invoiced = round2(it.base_tax_invoiced + line.base_tax_amount);
      it.discount_invoiced = round2(it.discount_invoiced + line.discount_amount); it.base_discount_invoiced = round2(it.base_discount_invoiced + line.base_discount_amount);
      if (it.product_type === 'configurable') this.applyToChildren(order, it.item_id, 'qty_invoiced', at);
    }
    order.subtotal_invoiced = round2(order.subtotal_invoiced + doc.subtotal); order.base_subtotal_invoiced = round2(order.base_subtotal_invoiced + doc.base_subtotal);
    order.tax_invoiced = round2(order.tax_invoiced + doc.tax_amount); order.base_tax_invoiced = round2(order.base_tax_invoiced + doc.base_tax_amount);
    order.shipping_invoiced = round2(order.shipping_invoiced + doc.shipping_amount); order.base_shipping_invoiced = round2(order.base_shipping_invoiced + doc.base_shipping_amount);
    order.discount_invoiced = round2(order.discount_invoiced + doc.discount_amount); order.base_discount_invoiced = round2(order.base_discount_invoiced + doc.base_discount_amount);
    // Offline methods are paid on registration; online ones only when captured.
    const online = order.payment.method === 'braintree';
    if (!online || req.capture) this.markInvoiced(order, doc.grand_total, doc.base_grand_total);
    else {
      order.total_invoiced = round2(order.total_invoiced + doc.grand_total); order.base_total_invoiced = round2(order.base_total_invoiced + doc.base_grand_total);
      doc.state = 1;
    }
    if (!this.invoiceDocs.has(entityId)) this.invoiceDocs.set(entityId, [...this.seededInvoices(entityId)]);
    if (req.notify) doc.email_sent = 1;
    addDocumentComment(doc, id, req, at);
    this.invoiceDocs.get(entityId)!.push(doc);
    this.resolveState(order);
    // The invoice's comment stays on the invoice: the order's history only records the status it moved to.
    order.status_histories.unshift(this.history(order, at, undefined, order.status, 'invoice', req.notify ? 1 : 0));
    this.touched(order, at);
    return id;
  }

  addComment(entityId: number, history: Record<string, unknown>): boolean {
    this.get(entityId);
    const status = typeof history.status === 'string' && history.status ? history.status : undefined;
    // Magento 2.4.7+: a comment may move the status only within the order's current state.
    const state = this.get(entityId).state;
    if (status && ![...(STATE_STATUSES[state] ?? []), ...(this.customStatuses[state] ?? [])].includes(status)) {
      throw new WebapiError(400, 'Unable to add comment: The status "%1" is not part of the order status history.', [status]);
    }
    const order = this.mutable(entityId);
    const at = this.stamp();
    if (status) order.status = status;
    order.status_histories.unshift(this.history(order, at, history.comment === undefined || history.comment === null ? undefined : String(history.comment), order.status, 'order',
      history.is_customer_notified ? 1 : 0, history.is_visible_on_front ? 1 : 0));
    this.touched(order, at);
    return true;
  }

  /** Magento answers `false` (200) when the order cannot be canceled. */
  cancel(entityId: number): boolean {
    const current = this.get(entityId);
    if (['canceled', 'complete', 'closed', 'holded', 'payment_review'].includes(current.state)) return false;
    const lines = (current.items as OrderItem[]).filter((it) => !it.parent_item_id);
    if (lines.every((it) => it.qty_invoiced >= it.qty_ordered - it.qty_canceled)) return false;
    const order = this.mutable(entityId);
    const at = this.stamp();
    for (const it of order.items as OrderItem[]) {
      if (it.parent_item_id) continue;
      it.qty_canceled = it.qty_ordered - Math.max(it.qty_invoiced, it.qty_shipped);
      it.updated_at = at;
      if (it.product_type === 'configurable') this.applyToChildren(order, it.item_id, 'qty_canceled', at);
    }
    order.total_canceled = round2(order.grand_total - order.total_invoiced); order.base_total_canceled = round2(order.base_grand_total - order.base_total_invoiced);
    const anyDone = lines.some((it) => it.qty_invoiced > 0 || it.qty_shipped > 0);
    order.state = anyDone ? 'complete' : 'canceled'; order.status = order.state;
    if (!anyDone) order.status_histories.unshift(this.history(order, at, undefined, 'canceled', 'order'));
    this.touched(order, at);
    return true;
  }

  hold(entityId: number): boolean {
    const current = this.get(entityId);
    if (['holded', 'payment_review', 'canceled', 'complete', 'closed'].includes(current.state)) throw new WebapiError(400, 'A hold action is not available.');
    const order = this.mutable(entityId);
    const at = this.stamp();
    order.hold_before_state = order.state; order.hold_before_status = order.status;
    order.state = 'holded'; order.status = 'holded';
    this.touched(order, at);
    return true;
  }

  unhold(entityId: number): boolean {
    const current = this.get(entityId);
    if (current.state !== 'holded') throw new WebapiError(400, 'You cannot remove the hold.');
    const order = this.mutable(entityId);
    const at = this.stamp();
    order.state = order.hold_before_state ?? 'new'; order.status = order.hold_before_status ?? 'pending';
    order.hold_before_state = undefined; order.hold_before_status = undefined;
    this.touched(order, at);
    return true;
  }

  /** How many seeded orders are held in memory (tests check the 100k store stays small). */
  get overlaySize(): number {
    return this.overlay.size;
  }
}

/**
 * A shipment's or invoice's comment, stored whenever one is given (Magento's Shipment/InvoiceDocumentFactory
 * call addComment for any comment); `appendComment` with `notify` only puts it into the customer's e-mail,
 * which is what `is_customer_notified` records. True when the comment goes to the customer.
 */
function addDocumentComment(doc: Order, docId: number, req: { notify?: boolean; appendComment?: boolean; comment?: { comment?: string; is_visible_on_front?: number | boolean } }, at: string): boolean {
  const text = req.comment?.comment;
  if (text === undefined || text === null || String(text) === '') return false;
  const notified = Boolean(req.appendComment && req.notify);
  doc.comments.push({
    comment: String(text), created_at: at, entity_id: docId * 100 + doc.comments.length, is_customer_notified: notified ? 1 : 0,
    is_visible_on_front: req.comment?.is_visible_on_front ? 1 : 0, parent_id: docId,
  });
  return notified;
}

function normalizeDate(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(v.trim());
  return m ? `${m[1]} ${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}` : v;
}

function cmpKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a); const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = String(a); const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

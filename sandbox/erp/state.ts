/**
 * Everything the demo ERP holds: received orders (with their Idempotency-Key answers), stock per SKU and
 * MSI source, prices, products and the shipments it made. Plain data, no HTTP, so tests can read it directly.
 */
import { CatalogItem, DEFAULT_SOURCES } from './catalog';

export interface OrderLine {
  sku: string;
  qty: number;
}

export type ErpOrderStatus = 'received' | 'partially_shipped' | 'shipped';

export interface ErpOrder {
  erp_order_id: string;
  order_number: string;
  status: ErpOrderStatus;
  idempotency_key: string;
  received_at: string;
  /** Shippable lines read from the canonical order (SKU and ordered quantity). */
  lines: OrderLine[];
  /** Quantity shipped so far per SKU. */
  shipped: Record<string, number>;
  /** The canonical order as received. */
  order: unknown;
}

export interface StockRecord {
  sku: string;
  source: string;
  qty: number;
  updated_at: string;
}

export interface PriceRecord {
  sku: string;
  price: number;
  store_id?: number;
  updated_at: string;
}

export interface ProductRecord {
  sku: string;
  name: string;
  price: number;
  weight?: number;
  short_description?: string;
  description?: string;
  /** `catalog` = known from the start; `erp` = introduced by the ERP (emitted as a new product). */
  origin: 'catalog' | 'erp';
  created_at: string;
}

export interface Track {
  carrier: string;
  title: string;
  number: string;
}

export interface ShipmentRecord {
  shipment_id: string;
  erp_order_id: string;
  order_number: string;
  lines: OrderLine[];
  tracks: Track[];
  invoice: boolean;
  created_at: string;
}

/** A stored answer to `POST /orders`, replayed for the same Idempotency-Key. */
export interface OrderAnswer {
  status: number;
  body: Record<string, unknown>;
  order_number: string;
}

const now = (): string => new Date().toISOString();

export class ErpState {
  readonly orders = new Map<string, ErpOrder>();
  readonly ordersByNumber = new Map<string, ErpOrder>();
  readonly answers = new Map<string, OrderAnswer>();
  /** sku → source → record */
  readonly stock = new Map<string, Map<string, StockRecord>>();
  /** `${store_id}|${sku}`, store 0 = global price */
  readonly prices = new Map<string, PriceRecord>();
  readonly products = new Map<string, ProductRecord>();
  readonly shipments: ShipmentRecord[] = [];
  sources: string[] = [...DEFAULT_SOURCES];
  private orderSeq = 0;
  productSeq = 0;

  constructor(catalog: readonly CatalogItem[] = [], sources?: readonly string[]) {
    this.load(catalog, sources);
  }

  load(catalog: readonly CatalogItem[], sources?: readonly string[]): void {
    this.orders.clear();
    this.ordersByNumber.clear();
    this.answers.clear();
    this.stock.clear();
    this.prices.clear();
    this.products.clear();
    this.shipments.length = 0;
    this.orderSeq = 0;
    this.productSeq = 0;
    const fromCatalog = new Set<string>();
    for (const item of catalog) for (const source of Object.keys(item.stock ?? {})) fromCatalog.add(source);
    this.sources = sources && sources.length > 0 ? [...sources] : fromCatalog.size > 0 ? [...fromCatalog] : [...DEFAULT_SOURCES];
    for (const item of catalog) {
      this.addProduct({ sku: item.sku, name: item.name, price: item.price, weight: item.weight }, 'catalog');
      for (const [source, qty] of Object.entries(item.stock ?? {})) this.setStock(item.sku, source, qty);
    }
  }

  addProduct(product: Omit<ProductRecord, 'origin' | 'created_at'>, origin: ProductRecord['origin']): ProductRecord {
    const record: ProductRecord = { ...product, origin, created_at: now() };
    this.products.set(product.sku, record);
    this.setPrice(product.sku, product.price);
    return record;
  }

  setStock(sku: string, source: string, qty: number): StockRecord {
    let bySource = this.stock.get(sku);
    if (!bySource) this.stock.set(sku, (bySource = new Map()));
    const record: StockRecord = { sku, source, qty, updated_at: now() };
    bySource.set(source, record);
    return record;
  }

  setPrice(sku: string, price: number, storeId?: number): PriceRecord {
    const record: PriceRecord = { sku, price, updated_at: now() };
    if (storeId !== undefined) record.store_id = storeId;
    this.prices.set(`${storeId ?? 0}|${sku}`, record);
    return record;
  }

  stockList(sku?: string): StockRecord[] {
    const out: StockRecord[] = [];
    for (const [key, bySource] of this.stock) if (sku === undefined || key === sku) out.push(...bySource.values());
    return out;
  }

  priceList(sku?: string): PriceRecord[] {
    return [...this.prices.values()].filter((p) => sku === undefined || p.sku === sku);
  }

  /** Every SKU the ERP knows: catalogue, introduced products and SKUs seen on orders. */
  skus(): string[] {
    const all = new Set<string>([...this.products.keys(), ...this.stock.keys()]);
    for (const order of this.orders.values()) for (const line of order.lines) all.add(line.sku);
    return [...all];
  }

  createOrder(idempotencyKey: string, orderNumber: string, order: unknown): OrderAnswer {
    this.orderSeq += 1;
    const record: ErpOrder = {
      erp_order_id: `ERP-${String(this.orderSeq).padStart(6, '0')}`,
      order_number: orderNumber,
      status: 'received',
      idempotency_key: idempotencyKey,
      received_at: now(),
      lines: orderLines(order),
      shipped: {},
      order,
    };
    this.orders.set(record.erp_order_id, record);
    this.ordersByNumber.set(orderNumber, record);
    const answer: OrderAnswer = {
      status: 201,
      body: { erp_order_id: record.erp_order_id, order_number: orderNumber, status: record.status },
      order_number: orderNumber,
    };
    this.answers.set(idempotencyKey, answer);
    return answer;
  }

  /** What is still to ship per SKU. */
  remaining(order: ErpOrder): OrderLine[] {
    return order.lines
      .map((line) => ({ sku: line.sku, qty: line.qty - (order.shipped[line.sku] ?? 0) }))
      .filter((line) => line.qty > 0);
  }

  openOrders(): ErpOrder[] {
    return [...this.orders.values()].filter((o) => this.remaining(o).length > 0);
  }

  recordShipment(order: ErpOrder, lines: OrderLine[], tracks: Track[], invoice: boolean, shipmentId: string): ShipmentRecord {
    const shipment: ShipmentRecord = {
      shipment_id: shipmentId,
      erp_order_id: order.erp_order_id,
      order_number: order.order_number,
      lines,
      tracks,
      invoice,
      created_at: now(),
    };
    for (const line of lines) order.shipped[line.sku] = (order.shipped[line.sku] ?? 0) + line.qty;
    order.status = this.remaining(order).length === 0 ? 'shipped' : 'partially_shipped';
    this.shipments.push(shipment);
    return shipment;
  }

  /** Orders as listed by `GET /orders` (without the full canonical body, which `GET /orders/:id` gives). */
  orderSummaries(): Array<Omit<ErpOrder, 'order'>> {
    return [...this.orders.values()].map(({ order: _order, ...summary }) => summary);
  }
}

/** The order number of a canonical order (Magento's increment_id). */
export function orderNumberOf(order: unknown): string | undefined {
  if (!order || typeof order !== 'object') return undefined;
  const o = order as Record<string, unknown>;
  const value = o.order_number ?? o.increment_id;
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/**
 * Shippable lines of a canonical order: virtual lines are left out, and a SKU on several lines is summed,
 * as a warehouse picks it once.
 */
export function orderLines(order: unknown): OrderLine[] {
  if (!order || typeof order !== 'object') return [];
  const o = order as Record<string, unknown>;
  const raw = Array.isArray(o.lines) ? o.lines : Array.isArray(o.items) ? o.items : [];
  const bySku = new Map<string, number>();
  for (const entry of raw) {
    if (!entry || typeof entry !== 'object') continue;
    const line = entry as Record<string, unknown>;
    if (line.product_type === 'virtual' || line.product_type === 'downloadable') continue;
    const sku = line.sku;
    const qty = Number(line.qty ?? line.qty_ordered ?? line.quantity);
    if (typeof sku !== 'string' || !Number.isFinite(qty) || qty <= 0) continue;
    bySku.set(sku, (bySku.get(sku) ?? 0) + qty);
  }
  return [...bySku].map(([sku, qty]) => ({ sku, qty }));
}

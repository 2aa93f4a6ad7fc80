/**
 * The seeded catalogue and everything keyed by SKU: products (simple and configurable with child
 * simples), MSI sources and source items, the legacy stock item view, base/special/tier prices and
 * customers. Small enough to hold in memory; rebuilt identically from the seed on reset.
 */
import { KIND, Rng } from './prng';
import { magentoDate } from './dates';
import { STORE_VIEWS } from './stores';

export interface CustomAttribute { attribute_code: string; value: unknown }

export interface Product {
  id: number;
  sku: string;
  name: string;
  attribute_set_id: number;
  price: number;
  status: number;
  visibility: number;
  type_id: string;
  created_at: string;
  updated_at: string;
  weight?: number;
  extension_attributes: Record<string, unknown>;
  product_links: unknown[];
  options: unknown[];
  media_gallery_entries: unknown[];
  tier_prices: unknown[];
  custom_attributes: CustomAttribute[];
  /** Not in Magento's output: the configurable parent of a child simple. */
  parentSku?: string;
  /** Store-scoped values written through /rest/<store>/V1/products/{sku} (name, status, visibility). */
  storeValues?: Record<number, Partial<Pick<Product, 'name' | 'status' | 'visibility'>>>;
}

export interface Source {
  source_code: string;
  name: string;
  enabled: boolean;
  description: string;
  latitude: number;
  longitude: number;
  country_id: string;
  region_id?: number;
  city: string;
  street: string;
  postcode: string;
  contact_name: string;
  email: string;
  phone: string;
  use_default_carrier_config: boolean;
  carrier_links: unknown[];
}

export interface SourceItem { sku: string; source_code: string; quantity: number; status: number }

export interface BasePrice { sku: string; price: number; store_id: number }
export interface SpecialPrice { sku: string; price: number; store_id: number; price_from: string; price_to: string }
export interface TierPrice { sku: string; price: number; price_type: string; website_id: number; customer_group: string; quantity: number }

export interface Customer {
  id: number;
  group_id: number;
  default_billing: string;
  default_shipping: string;
  created_at: string;
  updated_at: string;
  created_in: string;
  email: string;
  firstname: string;
  lastname: string;
  gender: number;
  store_id: number;
  website_id: number;
  addresses: Address[];
  disable_auto_group_change: number;
  extension_attributes: Record<string, unknown>;
}

export interface Address {
  id?: number;
  customer_id?: number;
  firstname: string;
  lastname: string;
  company?: string;
  street: string[];
  city: string;
  region: { region_code: string; region: string; region_id: number } | string;
  region_code?: string;
  region_id?: number;
  postcode: string;
  country_id: string;
  telephone: string;
  email?: string;
  vat_id?: string;
  default_billing?: boolean;
  default_shipping?: boolean;
}

export const FIRST_NAMES = ['Veronica', 'John', 'Amira', 'Lukas', 'Chen', 'Sofia', 'Mateo', 'Aisha', 'Pierre', 'Hannah', 'Kwame', 'Yuki', 'Olga', 'Diego', 'Fatima', 'Noah', 'Élodie', 'Søren', 'Zoë', 'Björn'];
export const LAST_NAMES = ['Costello', 'Smith', 'Haddad', 'Müller', 'Wang', 'Rossi', 'García', 'Okafor', 'Dubois', 'Schmidt', 'Mensah', 'Tanaka', 'Ivanova', 'Fernández', 'Khan', "O'Brien", 'Lefèvre', 'Nørgaard', 'Brown', 'Lindqvist'];

interface Place { city: string; region: string; region_code: string; region_id: number; postcode: string; country_id: string; phone: string }
export const PLACES: readonly Place[] = [
  { city: 'Calder', region: 'Michigan', region_code: 'MI', region_id: 33, postcode: '49628-7978', country_id: 'US', phone: '(555) 229-3326' },
  { city: 'Austin', region: 'Texas', region_code: 'TX', region_id: 57, postcode: '78701', country_id: 'US', phone: '512-555-0142' },
  { city: 'New York', region: 'New York', region_code: 'NY', region_id: 43, postcode: '10001', country_id: 'US', phone: '212-555-0199' },
  { city: 'Paris', region: 'Paris', region_code: '75', region_id: 257, postcode: '75011', country_id: 'FR', phone: '+33 1 44 55 66 77' },
  { city: 'Lyon', region: 'Rhône', region_code: '69', region_id: 251, postcode: '69002', country_id: 'FR', phone: '+33 4 72 00 00 00' },
  { city: 'Berlin', region: 'Berlin', region_code: 'BER', region_id: 82, postcode: '10115', country_id: 'DE', phone: '+49 30 123456' },
  { city: 'München', region: 'Bayern', region_code: 'BAY', region_id: 81, postcode: '80331', country_id: 'DE', phone: '+49 89 765432' },
];
const STREETS = ['6146 Honey Bluff Parkway', '12 Rue de la Roquette', 'Hauptstraße 5', '350 Fifth Avenue', '1 Congress Ave', 'Leopoldstraße 77', '9 Quai Saint-Vincent'];

const SIMPLE_NAMES = ['Joust Duffle Bag', 'Strive Shoulder Pack', 'Crown Summit Backpack', 'Wayfarer Messenger Bag', 'Rival Field Messenger', 'Fusion Backpack', 'Impulse Duffle', 'Voyage Yoga Bag', 'Compete Track Tote', 'Savvy Shoulder Tote', 'Endeavor Daytrip Backpack', 'Driven Backpack', 'Overnight Duffle', 'Push It Messenger Bag', 'Affirm Water Bottle', 'Dual Handle Cardio Ball', 'Zing Jump Rope', 'Pursuit Lumaflex Tone Band', 'Go-Get\'r Pushup Grips', 'Quest Lumaflex Band', 'Harmony Lumaflex Strength Band Kit', 'Sprite Foam Yoga Brick', 'Sprite Stasis Ball 55 cm', 'Set of Sprite Yoga Straps'];
const CONFIGURABLES = [
  { sku: 'MH01', name: 'Chaz Kangeroo Hoodie', sizes: ['XS', 'S', 'M', 'L'], colors: ['Black', 'Gray'] },
  { sku: 'MS04', name: 'Gobi HeatTec Tee', sizes: ['S', 'M', 'L'], colors: ['Blue', 'Orange'] },
  { sku: 'WJ06', name: 'Juno Jacket', sizes: ['S', 'M'], colors: ['Green', 'Purple'] },
  { sku: 'SHIRT/OXFORD', name: 'Oxford Shirt', sizes: ['M', 'L'], colors: ['White'] },
];

export const SOURCES_SEED: readonly Omit<Source, 'carrier_links'>[] = [
  { source_code: 'default', name: 'Default Source', enabled: true, description: 'Default Source', latitude: 0, longitude: 0, country_id: 'US', city: '', street: '', postcode: '00000', contact_name: '', email: '', phone: '', use_default_carrier_config: true },
  { source_code: 'warehouse_east', name: 'Warehouse East', enabled: true, description: 'Newark fulfilment centre', latitude: 40.7357, longitude: -74.1724, country_id: 'US', region_id: 41, city: 'Newark', street: '1 Port St', postcode: '07114', contact_name: 'East Desk', email: 'east@example.com', phone: '555-0101', use_default_carrier_config: true },
  { source_code: 'warehouse_west', name: 'Warehouse West', enabled: true, description: 'Reno fulfilment centre', latitude: 39.5296, longitude: -119.8138, country_id: 'US', region_id: 39, city: 'Reno', street: '500 Desert Rd', postcode: '89502', contact_name: 'West Desk', email: 'west@example.com', phone: '555-0102', use_default_carrier_config: true },
];

/** When the catalogue was "created": fixed, so a seed always gives the same dates. */
export const CATALOG_EPOCH = Date.UTC(2023, 10, 1, 9, 0, 0);

const key = (sku: string, source: string): string => `${sku.toLowerCase()}\u0000${source}`;

export class Catalog {
  readonly products = new Map<string, Product>(); // by lower-cased SKU (MySQL collation)
  readonly productsById = new Map<number, Product>();
  readonly sources = new Map<string, Source>();
  readonly sourceItems = new Map<string, SourceItem>();
  readonly basePrices = new Map<string, BasePrice>(); // sku|store
  readonly specialPrices: SpecialPrice[] = [];
  readonly tierPrices: TierPrice[] = [];
  readonly customers = new Map<number, Customer>();
  /** Simple, sellable products as an order line can use them (children point at their parent). */
  readonly sellable: Product[] = [];
  private nextProductId = 1;

  constructor(readonly seed: number, customerCount = 60) {
    const rng = Rng.for(seed, KIND.catalog, 0);
    for (const s of SOURCES_SEED) this.sources.set(s.source_code, { ...s, carrier_links: [] });
    let t = CATALOG_EPOCH;
    const at = (): string => magentoDate((t += 3600_000));
    // SKUs deliberately include `/`, spaces and mixed case: paths must encode them.
    const simpleSkus = SIMPLE_NAMES.map((_, i) => {
      if (i === 3) return 'BAG/WAYFARER';
      if (i === 7) return 'YOGA BAG 01';
      if (i === 11) return 'MB-DRIVEN/2';
      return `24-${i < 14 ? 'MB' : 'UG'}${String(i + 1).padStart(2, '0')}`;
    });
    SIMPLE_NAMES.forEach((name, i) => {
      const p = this.addSeedProduct(simpleSkus[i], name, 'simple', Math.round(rng.int(900, 9900)) / 100 + 0.0, 4, at());
      p.weight = rng.int(1, 30) / 10;
      this.sellable.push(p);
      this.seedStock(rng, p.sku);
    });
    for (const c of CONFIGURABLES) {
      const parentPrice = rng.int(2900, 8900) / 100;
      const parent = this.addSeedProduct(c.sku, c.name, 'configurable', parentPrice, 4, at());
      const childIds: number[] = [];
      for (const color of c.colors) {
        for (const size of c.sizes) {
          const child = this.addSeedProduct(`${c.sku}-${size}-${color}`, `${c.name}-${size}-${color}`, 'simple', parentPrice, 1, at());
          child.weight = 1;
          child.parentSku = parent.sku;
          child.custom_attributes.push({ attribute_code: 'size', value: size }, { attribute_code: 'color', value: color });
          childIds.push(child.id);
          this.sellable.push(child);
          this.seedStock(rng, child.sku);
        }
      }
      parent.extension_attributes.configurable_product_links = childIds;
      parent.extension_attributes.configurable_product_options = [
        { id: parent.id * 10 + 1, attribute_id: '93', label: 'Color', position: 0, values: c.colors.map((_, i) => ({ value_index: 49 + i })), product_id: parent.id },
        { id: parent.id * 10 + 2, attribute_id: '144', label: 'Size', position: 1, values: c.sizes.map((_, i) => ({ value_index: 167 + i })), product_id: parent.id },
      ];
    }
    // Tier and special prices on a few SKUs so the -information reads have something to show.
    this.tierPrices.push({ sku: simpleSkus[0], price: 30, price_type: 'fixed', website_id: 0, customer_group: 'ALL GROUPS', quantity: 10 });
    this.specialPrices.push({ sku: simpleSkus[1], price: 25, store_id: 0, price_from: '2024-01-01 00:00:00', price_to: '2030-01-01 00:00:00' });
    for (let i = 1; i <= customerCount; i++) this.customers.set(i, this.makeCustomer(i));
  }

  private addSeedProduct(sku: string, name: string, type: string, price: number, visibility: number, at: string): Product {
    const id = this.nextProductId++;
    const p: Product = {
      id, sku, name, attribute_set_id: type === 'configurable' ? 9 : 4, price, status: 1, visibility, type_id: type,
      created_at: at, updated_at: at,
      extension_attributes: { website_ids: [1, 2], category_links: [{ position: 0, category_id: '3' }] },
      product_links: [], options: [], media_gallery_entries: [], tier_prices: [],
      custom_attributes: [
        { attribute_code: 'url_key', value: name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') },
        { attribute_code: 'tax_class_id', value: '2' },
        { attribute_code: 'required_options', value: '0' },
        { attribute_code: 'has_options', value: type === 'configurable' ? '1' : '0' },
      ],
    };
    this.products.set(sku.toLowerCase(), p);
    this.productsById.set(id, p);
    this.basePrices.set(`${sku.toLowerCase()}|0`, { sku, price, store_id: 0 });
    return p;
  }

  private seedStock(rng: Rng, sku: string): void {
    this.sourceItems.set(key(sku, 'default'), { sku, source_code: 'default', quantity: rng.int(0, 200), status: 1 });
    if (rng.chance(0.6)) this.sourceItems.set(key(sku, 'warehouse_east'), { sku, source_code: 'warehouse_east', quantity: rng.int(0, 80), status: 1 });
    if (rng.chance(0.4)) this.sourceItems.set(key(sku, 'warehouse_west'), { sku, source_code: 'warehouse_west', quantity: rng.int(0, 80), status: 1 });
    const d = this.sourceItems.get(key(sku, 'default'))!;
    if (d.quantity === 0) d.status = 0;
  }

  private makeCustomer(id: number): Customer {
    const rng = Rng.for(this.seed, KIND.customer, id);
    const firstname = rng.pick(FIRST_NAMES);
    const lastname = rng.pick(LAST_NAMES);
    const store = rng.pick(STORE_VIEWS);
    const place = PLACES[store.id === 1 ? rng.int(0, 2) : store.id === 2 ? rng.int(3, 4) : rng.int(5, 6)];
    const email = `${firstname}.${lastname}.${id}@example.com`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f']/g, '').replace(/ø/g, 'o');
    const at = magentoDate(CATALOG_EPOCH + id * 86_400_000);
    const address: Address = {
      id: id * 10, customer_id: id, firstname, lastname, street: [rng.pick(STREETS)], city: place.city,
      region: { region_code: place.region_code, region: place.region, region_id: place.region_id }, region_id: place.region_id,
      postcode: place.postcode, country_id: place.country_id, telephone: place.phone, default_billing: true, default_shipping: true,
    };
    return {
      id, group_id: 1, default_billing: String(id * 10), default_shipping: String(id * 10), created_at: at, updated_at: at,
      created_in: store.name, email, firstname, lastname, gender: 0, store_id: store.id, website_id: store.website_id,
      addresses: [address], disable_auto_group_change: 0, extension_attributes: { is_subscribed: false },
    };
  }

  getProduct(sku: string): Product | undefined {
    return this.products.get(sku.toLowerCase());
  }

  /** The product as `GET /V1/products/{sku}` shows it in a store (store values over global ones). */
  productView(p: Product, storeId: number, withStock: boolean): Record<string, unknown> {
    const { parentSku: _parent, storeValues, ...rest } = p;
    const view: Record<string, unknown> = { ...rest, ...(storeId ? storeValues?.[storeId] : undefined) };
    view.extension_attributes = { ...p.extension_attributes };
    if (withStock && p.type_id === 'simple') (view.extension_attributes as Record<string, unknown>).stock_item = this.stockItem(p);
    view.tier_prices = this.tierPrices.filter((t) => t.sku.toLowerCase() === p.sku.toLowerCase()).map((t) => ({ customer_group_id: t.customer_group === 'ALL GROUPS' ? 32000 : Number(t.customer_group), qty: t.quantity, value: t.price, extension_attributes: { website_id: t.website_id } }));
    return view;
  }

  addProduct(input: Record<string, unknown>, at: string): Product {
    const sku = String(input.sku);
    const type = String(input.type_id ?? 'simple');
    const p: Product = {
      id: this.nextProductId++, sku, name: String(input.name ?? sku), attribute_set_id: Number(input.attribute_set_id ?? 4),
      price: Number(input.price ?? 0), status: Number(input.status ?? 1), visibility: Number(input.visibility ?? 4), type_id: type,
      created_at: at, updated_at: at,
      extension_attributes: { website_ids: [1], category_links: [] },
      product_links: [], options: [], media_gallery_entries: [], tier_prices: [],
      custom_attributes: Array.isArray(input.custom_attributes) ? (input.custom_attributes as CustomAttribute[]).map((a) => ({ attribute_code: String(a.attribute_code), value: a.value })) : [],
    };
    if (input.weight !== undefined) p.weight = Number(input.weight);
    this.products.set(sku.toLowerCase(), p);
    this.productsById.set(p.id, p);
    this.basePrices.set(`${sku.toLowerCase()}|0`, { sku, price: p.price, store_id: 0 });
    if (type === 'simple') {
      const stock = (input.extension_attributes as Record<string, unknown> | undefined)?.stock_item as Record<string, unknown> | undefined;
      const qty = stock?.qty !== undefined ? Number(stock.qty) : 0;
      const inStock = stock?.is_in_stock !== undefined ? (stock.is_in_stock ? 1 : 0) : qty > 0 ? 1 : 0;
      this.sourceItems.set(key(sku, 'default'), { sku, source_code: 'default', quantity: qty, status: inStock });
    }
    return p;
  }

  getSourceItem(sku: string, source: string): SourceItem | undefined {
    return this.sourceItems.get(key(sku, source));
  }

  setSourceItem(item: SourceItem): void {
    const product = this.getProduct(item.sku);
    this.sourceItems.set(key(item.sku, item.source_code), { ...item, sku: product?.sku ?? item.sku });
  }

  /** The legacy CatalogInventory view: MSI keeps it in step with the `default` source. */
  stockItem(p: Product): Record<string, unknown> {
    const d = this.getSourceItem(p.sku, 'default');
    return {
      item_id: p.id, product_id: p.id, stock_id: 1, qty: d?.quantity ?? 0, is_in_stock: (d?.status ?? 0) === 1,
      is_qty_decimal: false, show_default_notification_message: false, use_config_min_qty: true, min_qty: 0,
      use_config_min_sale_qty: 1, min_sale_qty: 1, use_config_max_sale_qty: true, max_sale_qty: 10000,
      use_config_backorders: true, backorders: 0, use_config_notify_stock_qty: true, notify_stock_qty: 1,
      use_config_qty_increments: true, qty_increments: 0, use_config_enable_qty_inc: true, enable_qty_increments: false,
      use_config_manage_stock: true, manage_stock: true, low_stock_date: null, is_decimal_divided: false,
      stock_status_changed_auto: 0,
    };
  }

  basePricesFor(sku: string): BasePrice[] {
    const lower = sku.toLowerCase();
    return [...this.basePrices.values()].filter((b) => b.sku.toLowerCase() === lower).sort((a, b) => a.store_id - b.store_id);
  }

  setBasePrice(price: BasePrice): void {
    const p = this.getProduct(price.sku)!;
    this.basePrices.set(`${p.sku.toLowerCase()}|${price.store_id}`, { sku: p.sku, price: price.price, store_id: price.store_id });
    if (price.store_id === 0) p.price = price.price;
  }

  /** The price a store sees (store value, else the global one). */
  getPrice(sku: string, storeId = 0): number | undefined {
    const lower = sku.toLowerCase();
    return this.basePrices.get(`${lower}|${storeId}`)?.price ?? this.basePrices.get(`${lower}|0`)?.price;
  }
}

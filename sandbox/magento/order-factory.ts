/**
 * Builds one Magento order (the JSON `GET /V1/orders/{id}` answers) from a deterministic random
 * stream: guest or registered customer, store and currency, simple and configurable lines (parent
 * carrying the price, child simple at 0 linked by `parent_item_id`), discount, tax, free or paid
 * shipping, payment method, and a history consistent with its state.
 */
import type { Address, Catalog, Customer } from './catalog';
import { FIRST_NAMES, LAST_NAMES, PLACES } from './catalog';
import { magentoDate } from './dates';
import type { Rng } from './prng';
import { STORE_VIEWS, type StoreView } from './stores';

export type Order = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type OrderItem = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A sellable line as it was when the store was seeded (later price changes must not rewrite old orders). */
export interface LineProduct {
  id: number;
  sku: string;
  name: string;
  price: number;
  weight: number;
  parent?: { id: number; sku: string; name: string; optionValue: number };
}

export function snapshotLines(catalog: Catalog): LineProduct[] {
  return catalog.sellable.map((p) => {
    const parent = p.parentSku ? catalog.getProduct(p.parentSku) : undefined;
    return {
      id: p.id, sku: p.sku, name: p.name, price: p.price, weight: p.weight ?? 1,
      parent: parent ? { id: parent.id, sku: parent.sku, name: parent.name, optionValue: 49 + (p.id % 4) } : undefined,
    };
  });
}

const PAYMENTS = [
  { method: 'checkmo', title: 'Check / Money order', weight: 0.35 },
  { method: 'cashondelivery', title: 'Cash On Delivery', weight: 0.2 },
  { method: 'banktransfer', title: 'Bank Transfer Payment', weight: 0.15 },
  { method: 'purchaseorder', title: 'Purchase Order', weight: 0.1 },
  { method: 'free', title: 'No Payment Information Required', weight: 0 },
  { method: 'braintree', title: 'Credit Card (Braintree)', weight: 0.2 },
];

export type SeedState = 'new' | 'processing' | 'complete' | 'canceled' | 'holded';

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Item ids are derived from the order id so any order can be rebuilt alone: 20 lines max per order. */
export const ITEM_ID_STRIDE = 20;

function storeName(s: StoreView): string {
  return s.website_id === 1 ? `Main Website\nMain Website Store\n${s.name}` : `EU Website\nEU Store\n${s.name}`;
}

export function incrementIdFor(entityId: number, storeId: number): string {
  // Magento keeps one sequence per store, prefixed by the store id for stores other than the first.
  return `${storeId === 1 ? '' : String(storeId)}${String(entityId).padStart(9, '0')}`;
}

export interface BuildOptions {
  entityId: number;
  createdMs: number;
  updatedMs: number;
  state: SeedState;
  lines: readonly LineProduct[];
  customers: ReadonlyMap<number, Customer>;
}

function pickPayment(rng: Rng): (typeof PAYMENTS)[number] {
  let x = rng.next();
  for (const p of PAYMENTS) {
    if (x < p.weight) return p;
    x -= p.weight;
  }
  return PAYMENTS[0];
}

function orderAddress(type: 'billing' | 'shipping', base: Address, email: string, orderId: number, customerId: number | undefined): Record<string, unknown> {
  const region = typeof base.region === 'string' ? { region: base.region, region_code: base.region_code, region_id: base.region_id } : base.region;
  return {
    address_type: type, city: base.city, company: base.company, country_id: base.country_id, customer_address_id: customerId ? base.id : undefined,
    customer_id: customerId, email, entity_id: orderId * 2 - (type === 'billing' ? 1 : 0), firstname: base.firstname, lastname: base.lastname,
    parent_id: orderId, postcode: base.postcode, region: region.region, region_code: region.region_code, region_id: region.region_id,
    street: [...base.street], telephone: base.telephone, vat_id: base.vat_id,
  };
}

interface LineValues {
  itemId: number; orderId: number; at: string; storeId: number; qty: number; quoteItemId: number; sku: string; name: string;
  productId: number; type: string; weight: number; rowWeight: number; price: number; basePrice: number; priceInclTax: number;
  basePriceInclTax: number; rowTotal: number; baseRowTotal: number; rowTotalInclTax: number; baseRowTotalInclTax: number;
  tax: number; baseTax: number; taxPercent: number; discount: number; baseDiscount: number; discountPercent: number;
}

/** One line's amounts in one currency, each rounded as Magento stores it. */
interface LineAmounts { price: number; priceInclTax: number; row: number; discount: number; tax: number; rowInclTax: number }

/**
 * Magento's default tax calculation (TotalBaseCalculator, tax after discount): row = unit price × qty, the
 * percent discount on the row, tax on the discounted row; the incl-tax row total carries the tax before
 * discount (AbstractAggregateCalculator).
 */
function lineAmounts(price: number, qty: number, discountPercent: number, taxPercent: number): LineAmounts {
  const row = round2(price * qty);
  const discount = round2((row * discountPercent) / 100);
  const tax = round2(((row - discount) * taxPercent) / 100);
  const rowInclTax = round2(row + (row * taxPercent) / 100);
  return { price, priceInclTax: round2(rowInclTax / qty), row, discount, tax, rowInclTax };
}

/** One order item with every field in a fixed order (one object shape: cheap to build 100 000 times). */
function lineItem(v: LineValues): OrderItem {
  return {
    item_id: v.itemId, order_id: v.orderId, quote_item_id: v.quoteItemId, created_at: v.at, updated_at: v.at, store_id: v.storeId,
    product_id: v.productId, product_type: v.type, sku: v.sku, name: v.name, weight: v.weight, row_weight: v.rowWeight,
    is_virtual: 0, is_qty_decimal: 0, no_discount: 0, free_shipping: 0,
    qty_ordered: v.qty, qty_invoiced: 0, qty_shipped: 0, qty_canceled: 0, qty_refunded: 0,
    price: v.price, base_price: v.basePrice, original_price: v.price, base_original_price: v.basePrice as number | undefined,
    price_incl_tax: v.priceInclTax, base_price_incl_tax: v.basePriceInclTax,
    row_total: v.rowTotal, base_row_total: v.baseRowTotal, row_total_incl_tax: v.rowTotalInclTax, base_row_total_incl_tax: v.baseRowTotalInclTax,
    row_invoiced: 0, base_row_invoiced: 0,
    tax_amount: v.tax, base_tax_amount: v.baseTax, tax_percent: v.taxPercent, tax_invoiced: 0, base_tax_invoiced: 0,
    discount_amount: v.discount, base_discount_amount: v.baseDiscount, discount_percent: v.discountPercent, discount_invoiced: 0, base_discount_invoiced: 0,
    amount_refunded: 0, base_amount_refunded: 0,
  };
}

export interface OrderCustomer {
  customer?: Customer;
  store: StoreView;
  address: Address;
  firstname: string;
  lastname: string;
  email: string;
}

/**
 * The first draws of an order's stream: who ordered, in which store. Kept apart so the order book can
 * filter on these columns from the same stream without building the whole order.
 */
export function drawCustomer(rng: Rng, entityId: number, customers: ReadonlyMap<number, Customer>): OrderCustomer {
  const guest = rng.chance(0.3) || customers.size === 0;
  if (!guest) {
    const customer = customers.get(rng.int(1, customers.size))!;
    const store = STORE_VIEWS.find((s) => s.id === customer.store_id)!;
    return { customer, store, address: customer.addresses[0], firstname: customer.firstname, lastname: customer.lastname, email: customer.email };
  }
  const r = rng.next();
  const store = r < 0.6 ? STORE_VIEWS[0] : r < 0.8 ? STORE_VIEWS[1] : STORE_VIEWS[2];
  const firstname = rng.pick(FIRST_NAMES);
  const lastname = rng.pick(LAST_NAMES);
  const email = `guest${entityId}@example.org`;
  const place = PLACES[store.id === 1 ? rng.int(0, 2) : store.id === 2 ? rng.int(3, 4) : rng.int(5, 6)];
  const address: Address = {
    firstname, lastname, street: [`${rng.int(1, 999)} ${rng.pick(['Main Street', 'Rue Oberkampf', 'Kastanienallee', 'Elm Road'])}`, ...(rng.chance(0.2) ? ['Apt 4B'] : [])],
    city: place.city, region: place.region, region_code: place.region_code, region_id: place.region_id, postcode: place.postcode,
    country_id: place.country_id, telephone: place.phone, company: rng.chance(0.15) ? 'ACME Trading GmbH' : undefined,
    vat_id: store.id === 3 && rng.chance(0.3) ? `DE${rng.int(100000000, 999999999)}` : undefined,
  };
  return { store, address, firstname, lastname, email };
}

export function buildOrder(rng: Rng, opts: BuildOptions): Order {
  const { entityId } = opts;
  const created = magentoDate(opts.createdMs);
  const updated = magentoDate(opts.updatedMs);
  const { customer, store, address, firstname, lastname, email } = drawCustomer(rng, entityId, opts.customers);
  const rate = store.rate;
  const taxPercent = store.id === 1 ? (rng.chance(0.5) ? 8.25 : 0) : store.id === 2 ? 20 : 19;
  const coupon = rng.chance(0.25) ? 'SAVE10' : undefined;
  const discountPercent = coupon ? 10 : 0;

  // Lines.
  const count = rng.int(1, 4);
  const chosen = new Set<number>();
  const items: OrderItem[] = [];
  let nextItem = entityId * ITEM_ID_STRIDE;
  // Each currency is totalled from its own rounded line amounts, as Magento's quote collectors do: a line's
  // order-currency amounts come from its converted unit price, never from its base amounts times the rate.
  const base = { subtotal: 0, discount: 0, tax: 0, inclTax: 0 };
  const ord = { subtotal: 0, discount: 0, tax: 0, inclTax: 0 };
  let qtyTotal = 0;
  let weightTotal = 0;
  for (let n = 0; n < count; n++) {
    const li = rng.int(0, opts.lines.length - 1);
    if (chosen.has(li)) continue;
    chosen.add(li);
    const line = opts.lines[li];
    const qty = rng.int(1, 3);
    const b = lineAmounts(line.price, qty, discountPercent, taxPercent);
    const o = lineAmounts(round2(line.price * rate), qty, discountPercent, taxPercent);
    for (const [sum, a] of [[base, b], [ord, o]] as const) {
      sum.subtotal += a.row; sum.discount += a.discount; sum.tax += a.tax; sum.inclTax += a.rowInclTax;
    }
    qtyTotal += qty;
    weightTotal += line.weight * qty;
    const quoteItemId = entityId * ITEM_ID_STRIDE + items.length;
    const priced = (itemId: number, sku: string, name: string, productId: number, type: string): OrderItem => lineItem({
      itemId, orderId: entityId, at: created, storeId: store.id, qty, quoteItemId, sku, name, productId, type, weight: line.weight,
      rowWeight: round2(line.weight * qty), price: o.price, basePrice: b.price, priceInclTax: o.priceInclTax, basePriceInclTax: b.priceInclTax,
      rowTotal: o.row, baseRowTotal: b.row, rowTotalInclTax: o.rowInclTax, baseRowTotalInclTax: b.rowInclTax,
      tax: o.tax, baseTax: b.tax, taxPercent, discount: o.discount, baseDiscount: b.discount, discountPercent,
    });
    if (line.parent) {
      const parentId = nextItem++;
      const parent = priced(parentId, line.sku, line.parent.name, line.parent.id, 'configurable');
      parent.product_option = { extension_attributes: { configurable_item_options: [{ option_id: '93', option_value: line.parent.optionValue }] } };
      const child = lineItem({
        itemId: nextItem++, orderId: entityId, at: created, storeId: store.id, qty, quoteItemId, sku: line.sku, name: line.name, productId: line.id, type: 'simple',
        weight: line.weight, rowWeight: 0, price: 0, basePrice: 0, priceInclTax: 0, basePriceInclTax: 0, rowTotal: 0, baseRowTotal: 0, rowTotalInclTax: 0,
        baseRowTotalInclTax: 0, tax: 0, baseTax: 0, taxPercent: 0, discount: 0, baseDiscount: 0, discountPercent: 0,
      });
      child.base_original_price = undefined;
      child.parent_item_id = parentId;
      items.push(parent, child);
    } else {
      items.push(priced(nextItem++, line.sku, line.name, line.id, 'simple'));
    }
  }
  for (const it of items) if (it.parent_item_id) it.parent_item = { ...items.find((p) => p.item_id === it.parent_item_id) };

  const baseSubtotal = round2(base.subtotal);
  const baseDiscount = round2(base.discount);
  const baseTax = round2(base.tax);
  const subtotal = round2(ord.subtotal);
  const discount = round2(ord.discount);
  const tax = round2(ord.tax);
  const freeShipping = baseSubtotal - baseDiscount >= 100 || rng.chance(0.15);
  const baseShipping = freeShipping ? 0 : round2(5 * qtyTotal);
  const shipping = round2(baseShipping * rate);
  const baseGrand = round2(baseSubtotal - baseDiscount + baseShipping + baseTax);
  const grand = round2(subtotal - discount + shipping + tax);
  const payment = freeShipping && baseGrand === 0 ? PAYMENTS[4] : pickPayment(rng);

  const billing = orderAddress('billing', address, email, entityId, customer?.id);
  const shippingAddr = orderAddress('shipping', address, email, entityId, customer?.id);
  const shippingMethod = freeShipping ? 'freeshipping_freeshipping' : 'flatrate_flatrate';
  const shippingDescription = freeShipping ? 'Free Shipping - Free' : 'Flat Rate - Fixed';

  const order: Order = {
    entity_id: entityId,
    increment_id: incrementIdFor(entityId, store.id),
    state: 'new',
    status: 'pending',
    protect_code: (entityId * 2654435761 >>> 0).toString(16).padStart(8, '0'),
    created_at: created,
    updated_at: updated,
    store_id: store.id,
    store_name: storeName(store),
    store_currency_code: store.base_currency_code,
    base_currency_code: store.base_currency_code,
    global_currency_code: 'USD',
    order_currency_code: store.default_display_currency_code,
    base_to_global_rate: store.base_currency_code === 'USD' ? 1 : 1.08,
    base_to_order_rate: rate,
    store_to_base_rate: 0,
    store_to_order_rate: 0,
    customer_email: email,
    customer_firstname: firstname,
    customer_lastname: lastname,
    customer_id: customer?.id,
    customer_group_id: customer ? customer.group_id : 0,
    customer_is_guest: customer ? 0 : 1,
    customer_note_notify: 1,
    customer_dob: undefined,
    customer_gender: undefined,
    customer_note: undefined,
    coupon_code: coupon,
    discount_description: coupon,
    email_sent: 1,
    send_email: 1,
    ext_order_id: undefined,
    hold_before_state: undefined,
    hold_before_status: undefined,
    is_virtual: 0,
    quote_id: entityId + 1000,
    remote_ip: `203.0.113.${entityId % 250}`,
    weight: round2(weightTotal),
    total_item_count: items.length,
    total_qty_ordered: qtyTotal,
    subtotal,
    base_subtotal: baseSubtotal,
    subtotal_incl_tax: round2(ord.inclTax),
    base_subtotal_incl_tax: round2(base.inclTax),
    discount_amount: -discount,
    base_discount_amount: -baseDiscount,
    shipping_amount: shipping,
    base_shipping_amount: baseShipping,
    shipping_incl_tax: shipping,
    base_shipping_incl_tax: baseShipping,
    shipping_tax_amount: 0,
    base_shipping_tax_amount: 0,
    shipping_discount_amount: 0,
    base_shipping_discount_amount: 0,
    shipping_description: shippingDescription,
    tax_amount: tax,
    base_tax_amount: baseTax,
    grand_total: grand,
    base_grand_total: baseGrand,
    total_due: grand,
    base_total_due: baseGrand,
    total_paid: 0,
    base_total_paid: 0,
    total_invoiced: 0,
    base_total_invoiced: 0,
    subtotal_invoiced: 0,
    base_subtotal_invoiced: 0,
    tax_invoiced: 0,
    base_tax_invoiced: 0,
    shipping_invoiced: 0,
    base_shipping_invoiced: 0,
    discount_invoiced: 0,
    base_discount_invoiced: 0,
    total_canceled: 0,
    base_total_canceled: 0,
    total_refunded: 0,
    base_total_refunded: 0,
    billing_address_id: billing.entity_id,
    items,
    billing_address: billing,
    payment: {
      account_status: undefined, additional_information: [payment.title], amount_ordered: grand, base_amount_ordered: baseGrand,
      base_shipping_amount: baseShipping, shipping_amount: shipping, cc_last4: payment.method === 'braintree' ? String(1000 + (entityId % 9000)) : undefined,
      entity_id: entityId, method: payment.method, parent_id: entityId, amount_paid: 0, base_amount_paid: 0,
    },
    status_histories: [],
    extension_attributes: {
      shipping_assignments: [{
        shipping: {
          address: shippingAddr, method: shippingMethod,
          total: { base_shipping_amount: baseShipping, base_shipping_incl_tax: baseShipping, base_shipping_tax_amount: 0, shipping_amount: shipping, shipping_incl_tax: shipping, shipping_tax_amount: 0 },
        },
        items: [],
      }],
      payment_additional_info: [{ key: 'method_title', value: payment.title }],
      applied_taxes: taxPercent ? [{ code: store.id === 1 ? 'US-TAX' : 'VAT', title: store.id === 1 ? 'US Tax' : 'VAT', percent: taxPercent, amount: tax, base_amount: baseTax }] : [],
      item_applied_taxes: [],
      converting_from_quote: true,
    },
  };
  return order;
}

/** Items as an order's shipping assignment lists them (the same items, as Magento repeats them). */
export function syncAssignmentItems(order: Order): void {
  const a = order.extension_attributes?.shipping_assignments?.[0];
  if (a) a.items = order.items;
}

export { round2 };

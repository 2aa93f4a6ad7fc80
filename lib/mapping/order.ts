/**
 * Magento 2.4 order → canonical ERP order (`schemas/erp-order.schema.json`). A pure function: the same
 * order and options always give the same result, so an order can be re-mapped later from the raw copy.
 *
 * Amount rules (the README's "canonical order" section says the same for integrators):
 * - Every amount is in one currency: the order currency (what the customer paid in, Magento's plain
 *   fields) by default, or the base currency (Magento's `base_*` twins) when configured.
 * - `excl_tax` (default): `price` is the unit price without tax, `discount` the line's discount without
 *   tax, `row_total` = qty × price − discount, `tax` separate. `incl_tax`: the same with tax included;
 *   `tax` still says how much of it is tax.
 * - Discounts are positive. Magento's order `discount_amount` is negative, its item `discount_amount`
 *   positive; with catalog prices including tax Magento's discount includes tax, and the tax part
 *   (`discount_tax_compensation_amount`) is taken out for the net figure.
 * - Shipping is a service line (type `shipping`, 0 for free shipping) whenever the order ships; the
 *   fixed product tax of the items (FPT) is one (type `fixed_product_tax`);
 *   extension fees (cash on delivery, payment fee) and deductions (gift card, store credit, reward
 *   points, negative) are service lines too, from the configured fee sources.
 * - The lines and service lines must add up to `grand_total` within the tolerance (a cent), or the
 *   order is rejected naming the difference: a mapping that loses money is never sent.
 */
import {
  ErpAddress,
  ErpItem,
  ErpOrder,
  ErpServiceLine,
  LookupTable,
  MagentoAddress,
  MagentoOrder,
  MagentoOrderItem,
  MappingOptions,
  MappingProblem,
} from './types';
import { LineSource, selectLines } from './lines';
import { applyFieldRules } from './rules';
import { basePath, getPath } from './paths';
import { preset } from './options';

export interface MapResult {
  /** The canonical order; undefined only when the input is not an order at all. */
  order: ErpOrder | undefined;
  /** Everything wrong, as JSON pointers into the Magento order; empty when the order mapped cleanly. */
  problems: MappingProblem[];
}

export function round2(value: number): number {
  const r = Math.round((value + (value >= 0 ? 1e-9 : -1e-9)) * 100) / 100;
  return Object.is(r, -0) ? 0 : r;
}

/** Magento's column names are cut at 64 characters for a few base-currency twins. */
const BASE_FIELD_EXCEPTIONS: Record<string, string> = {
  shipping_discount_tax_compensation_amount: 'base_shipping_discount_tax_compensation_amnt',
  weee_tax_applied_row_amount: 'base_weee_tax_applied_row_amnt',
};

/** Reads amounts in the configured currency, reporting anything that is not a number. */
class AmountReader {
  constructor(
    private readonly base: boolean,
    private readonly sameCurrency: boolean,
    private readonly problems: MappingProblem[],
  ) {}

  read(obj: unknown, field: string, pointer: string): number | undefined {
    if (!obj || typeof obj !== 'object') return undefined;
    const record = obj as Record<string, unknown>;
    const key = this.base ? BASE_FIELD_EXCEPTIONS[field] ?? `base_${field}` : field;
    let value = record[key];
    if (value === undefined || value === null) {
      if (this.base && record[field] !== undefined && record[field] !== null) {
        // The base twin is missing: the plain amount is only usable when both currencies are the same
        // (or when it is zero, which it is in any currency).
        if (!this.sameCurrency && Number(record[field]) !== 0) {
          this.problems.push({ field: `${pointer}/${key}`, reason: 'is required to map amounts in the base currency' });
          return undefined;
        }
        value = record[field];
      } else {
        return undefined;
      }
    }
    return this.number(value, `${pointer}/${key}`);
  }

  /** A fee at a dotted path (base twin in base-currency mode: `baseTwin`, else `base_` before the last segment). */
  readPath(root: unknown, path: string, baseTwin?: string): { value: number; path: string } | undefined {
    const twin = baseTwin ?? basePath(path);
    const candidates = this.base ? (this.sameCurrency ? [twin, path] : [twin]) : [path];
    for (const candidate of candidates) {
      const raw = getPath(root, candidate);
      if (raw === undefined || raw === null || raw === '') continue;
      const value = this.number(raw, `/${candidate.split('.').join('/')}`);
      if (value !== undefined) return { value, path: candidate };
    }
    return undefined;
  }

  number(value: unknown, pointer: string): number | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
    if (!Number.isFinite(n)) {
      this.problems.push({ field: pointer, reason: 'must be a number' });
      return undefined;
    }
    return n;
  }
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value).trim();
  return s === '' ? null : s;
}

/** Magento's `YYYY-MM-DD HH:MM:SS` (UTC) → ISO 8601 with `Z`. */
export function isoDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/i.exec(v);
  if (!m) return undefined;
  const zone = m[3] ? m[3].toUpperCase() : 'Z';
  const iso = `${m[1]}T${m[2]}${zone}`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

function lookup(table: LookupTable, code: string, what: string, pointer: string, problems: MappingProblem[]): string {
  if (Object.prototype.hasOwnProperty.call(table.table, code)) return table.table[code];
  if (table.onUnknown === 'default' && table.default) return table.default;
  if (table.onUnknown === 'error') {
    problems.push({ field: pointer, reason: `"${code}" has no entry in the ${what} lookup table` });
  }
  return code;
}

function streetLines(street: unknown): string[] {
  const raw = Array.isArray(street) ? street : typeof street === 'string' ? street.split(/\r?\n/) : [];
  return raw.map((line) => (line === undefined || line === null ? '' : String(line).trim())).filter((line) => line !== '');
}

function mapAddress(address: MagentoAddress, separator: string): ErpAddress {
  const lines = streetLines(address.street);
  const regionObject = address.region && typeof address.region === 'object' ? address.region : undefined;
  const regionName = regionObject ? regionObject.region : (address.region as string | null | undefined);
  const regionCode = text(address.region_code) ?? text(regionObject?.region_code);
  return {
    first_name: text(address.firstname) ?? '',
    last_name: text(address.lastname) ?? '',
    company: text(address.company),
    street: lines.join(separator),
    street_lines: lines,
    city: text(address.city) ?? '',
    region: text(regionName) ?? regionCode,
    region_code: regionCode,
    postcode: text(address.postcode),
    country: (text(address.country_id) ?? '').toUpperCase(),
    telephone: text(address.telephone),
    email: text(address.email),
    vat_id: text(address.vat_id),
  };
}

function shippingAssignment(raw: MagentoOrder): { address?: MagentoAddress; method?: string | null } | undefined {
  const assignments = raw.extension_attributes?.shipping_assignments;
  if (!Array.isArray(assignments)) return undefined;
  return assignments.find((a) => a && a.shipping)?.shipping;
}

function truthy(flag: unknown): boolean {
  return flag === true || flag === 1 || flag === '1';
}

/** An order that ships nothing: Magento's is_virtual, else every item virtual or downloadable. */
function isVirtualOrder(raw: MagentoOrder): boolean {
  if (raw.is_virtual !== undefined && raw.is_virtual !== null) return truthy(raw.is_virtual);
  const items = Array.isArray(raw.items) ? raw.items : [];
  return items.length > 0 && items.every((i) => i && (truthy(i.is_virtual) || i.product_type === 'virtual' || i.product_type === 'downloadable'));
}

function mapLine(src: LineSource, money: AmountReader, incl: boolean, problems: MappingProblem[]): ErpItem {
  const it = src.item;
  const p = `/items/${src.index}`;
  const qty = money.number(it.qty_ordered, `${p}/qty_ordered`);
  if (qty !== undefined && qty <= 0) problems.push({ field: `${p}/qty_ordered`, reason: 'must be > 0' });
  const q = qty ?? 0;
  const price = money.read(it, 'price', p) ?? 0;
  const tax = money.read(it, 'tax_amount', p) ?? 0;
  const discount = Math.abs(money.read(it, 'discount_amount', p) ?? 0);
  const compensation = money.read(it, 'discount_tax_compensation_amount', p) ?? 0;
  const rowNet = money.read(it, 'row_total', p) ?? q * price;
  const netDiscount = Math.max(0, discount - compensation);
  const taxPercent = money.number(it.tax_percent, `${p}/tax_percent`);
  const line: ErpItem = {
    sku: src.sku,
    name: src.name,
    qty: q,
    price: round2(price),
    tax: round2(tax),
    discount: round2(netDiscount),
    row_total: round2(rowNet - netDiscount),
    product_type: src.productType,
    parent_sku: src.parentSku,
    tax_percent: taxPercent ?? null,
    magento_item_id: typeof it.item_id === 'number' ? it.item_id : null,
  };
  if (incl) {
    // Magento's incl-tax row total is before discount; the gross line is what the customer pays for it.
    const rowIncl = money.read(it, 'row_total_incl_tax', p) ?? rowNet + tax + compensation;
    const priceIncl = money.read(it, 'price_incl_tax', p) ?? (q > 0 ? rowIncl / q : 0);
    const gross = rowNet - netDiscount + tax;
    line.price = round2(priceIncl);
    line.discount = round2(Math.max(0, rowIncl - gross));
    line.row_total = round2(gross);
  }
  return line;
}

function shippingLine(raw: MagentoOrder, money: AmountReader, incl: boolean, code: string, description: string): { line: ErpServiceLine; before: number } {
  const amount = money.read(raw, 'shipping_amount', '') ?? 0;
  const tax = money.read(raw, 'shipping_tax_amount', '') ?? 0;
  const discount = Math.abs(money.read(raw, 'shipping_discount_amount', '') ?? 0);
  const compensation = money.read(raw, 'shipping_discount_tax_compensation_amount', '') ?? 0;
  const netDiscount = Math.max(0, discount - compensation);
  if (!incl) {
    return {
      line: { type: 'shipping', code, description, amount: round2(amount - netDiscount), tax: round2(tax), discount: round2(netDiscount) },
      before: amount,
    };
  }
  const inclTax = money.read(raw, 'shipping_incl_tax', '') ?? amount + tax + compensation;
  const gross = amount - netDiscount + tax;
  return {
    line: { type: 'shipping', code, description, amount: round2(gross), tax: round2(tax), discount: round2(Math.max(0, inclTax - gross)) },
    before: inclTax,
  };
}

function feeLines(raw: MagentoOrder, options: MappingOptions, money: AmountReader, incl: boolean): ErpServiceLine[] {
  const out: ErpServiceLine[] = [];
  for (const fee of options.fees) {
    const found = fee.amount.map((path, i) => money.readPath(raw, path, fee.baseAmount?.[i])).find((v) => v !== undefined);
    if (!found || found.value === 0) continue;
    if (fee.deduction) {
      out.push({ type: fee.type, code: fee.code, description: fee.description, amount: round2(-Math.abs(found.value)), tax: 0 });
      continue;
    }
    const taxFound = (fee.tax ?? []).map((path, i) => money.readPath(raw, path, fee.baseTax?.[i])).find((v) => v !== undefined);
    const tax = Math.abs(taxFound?.value ?? 0);
    const net = fee.includesTax ? found.value - tax : found.value;
    out.push({ type: fee.type, code: fee.code, description: fee.description, amount: round2(incl ? net + tax : net), tax: round2(tax) });
  }
  return out;
}

/**
 * Fixed product tax (FPT, Magento_Weee: a recycling fee and the like, per unit of a product): Magento adds
 * each item's FPT to the grand total — inside the subtotal or as a total of its own, as the store is
 * configured — but never to the item's row total, and the tax on it (where FPT is taxed) to the order's tax
 * only. One service line carries the FPT of every item: the net row amount (`weee_tax_applied_row_amount`,
 * its base twin spelt `base_weee_tax_applied_row_amnt`) and the tax from each fee applied (`weee_tax_applied`,
 * JSON text: `row_amount_incl_tax` − `row_amount`). A dynamic bundle's parent repeats a child's fees without
 * a row amount of its own: only items with a row amount count, so nothing is counted twice.
 */
function fixedProductTaxLine(items: MagentoOrderItem[], money: AmountReader, incl: boolean, base: boolean): ErpServiceLine | undefined {
  let amount = 0;
  let tax = 0;
  const titles = new Set<string>();
  items.forEach((item, i) => {
    const row = money.read(item, 'weee_tax_applied_row_amount', `/items/${i}`);
    if (!row) return;
    amount += row;
    for (const fee of appliedFees(item.weee_tax_applied)) {
      const title = text(fee.title);
      if (title) titles.add(title);
      const net = Number(fee[base ? 'base_row_amount' : 'row_amount']);
      const gross = Number(fee[base ? 'base_row_amount_incl_tax' : 'row_amount_incl_tax']);
      if (Number.isFinite(net) && Number.isFinite(gross) && gross > net) tax += gross - net;
    }
  });
  if (amount === 0) return undefined;
  const description = titles.size > 0 ? `Fixed product tax: ${[...titles].join(', ')}` : 'Fixed product tax';
  return { type: 'fixed_product_tax', code: 'FPT', description, amount: round2(incl ? amount + tax : amount), tax: round2(tax) };
}

/**
 * The order's subtotal without the FPT Magento may have put in it: always in `subtotal_incl_tax`, and in `subtotal`
 * when the store has "Include FPT In Subtotal" on (Magento_Weee's WeeeTax collector, processTotalAmount). The
 * ERP's subtotal is the items' (qty × price, before discount): taken out where the subtotal is the items' plus the
 * FPT line (`fpt`, in the same amounts) and not the items' alone; otherwise Magento's subtotal as it is.
 */
function withoutFixedProductTax(subtotal: number, itemsSubtotal: number, fpt: number, tolerance: number): number {
  if (fpt === 0) return subtotal;
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= tolerance + 1e-9;
  return near(subtotal - fpt, itemsSubtotal) && !near(subtotal, itemsSubtotal) ? subtotal - fpt : subtotal;
}

/** The fees of `weee_tax_applied` (JSON text, or already an array); none when it is absent or not a list. */
function appliedFees(applied: unknown): Array<Record<string, unknown>> {
  let list = applied;
  if (typeof applied === 'string') {
    try {
      list = JSON.parse(applied);
    } catch {
      return [];
    }
  }
  return Array.isArray(list) ? list.filter((fee): fee is Record<string, unknown> => Boolean(fee) && typeof fee === 'object') : [];
}

function fmt(value: number): string {
  return round2(value).toFixed(2);
}

/**
 * Maps one Magento order. Never throws for a bad order: every problem is collected, as a JSON pointer
 * into the Magento order and a reason, and the (possibly incomplete) ERP order is still returned so it
 * can be shown next to the problems.
 */
export function mapOrder(raw: MagentoOrder, options: MappingOptions = preset('standard')): MapResult {
  const problems: MappingProblem[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { order: undefined, problems: [{ field: '/', reason: 'must be a Magento order object' }] };
  }
  const orderCurrency = text(raw.order_currency_code);
  const baseCurrency = text(raw.base_currency_code);
  const useBase = options.currency === 'base';
  const currency = (useBase ? baseCurrency ?? orderCurrency : orderCurrency ?? baseCurrency) ?? '';
  if (!currency) problems.push({ field: useBase ? '/base_currency_code' : '/order_currency_code', reason: 'is required: it says which currency the amounts are in' });
  const money = new AmountReader(useBase, !orderCurrency || !baseCurrency || orderCurrency === baseCurrency, problems);
  const incl = options.amounts === 'incl_tax';

  // Lines
  const items = Array.isArray(raw.items) ? raw.items : [];
  const sources = selectLines(items, options.bundles);
  const lines = sources.map((src) => mapLine(src, money, incl, problems));
  if (items.length > 0 && lines.length === 0) problems.push({ field: '/items', reason: 'has no product lines' });

  // Addresses and customer
  const billingRaw = raw.billing_address && typeof raw.billing_address === 'object' ? raw.billing_address : undefined;
  if (!billingRaw) problems.push({ field: '/billing_address', reason: 'is required' });
  const billing = mapAddress(billingRaw ?? {}, options.streetSeparator);
  const assignment = shippingAssignment(raw);
  const shippingRaw = assignment?.address ?? (raw.shipping_address || undefined);
  const virtual = isVirtualOrder(raw);
  const shippingAddress = shippingRaw && typeof shippingRaw === 'object' ? mapAddress(shippingRaw, options.streetSeparator) : null;
  if (!shippingAddress && !virtual) {
    problems.push({ field: '/extension_attributes/shipping_assignments/0/shipping/address', reason: 'is required: the order ships physical items' });
  }

  const guest = truthy(raw.customer_is_guest) || raw.customer_id === undefined || raw.customer_id === null;
  const vatId = billing.vat_id ?? shippingAddress?.vat_id ?? text(raw.customer_taxvat);
  const customer: ErpOrder['customer'] = {
    email: text(raw.customer_email) ?? '',
    first_name: text(raw.customer_firstname) ?? billing.first_name,
    last_name: text(raw.customer_lastname) ?? billing.last_name,
    customer_id: guest ? null : Number(raw.customer_id),
    company: billing.company ?? shippingAddress?.company ?? null,
    vat_id: vatId,
    is_guest: guest,
    group_id: typeof raw.customer_group_id === 'number' ? raw.customer_group_id : null,
    resolve_by: vatId ? 'vat_id' : 'email',
  };

  // Shipping and payment
  const magentoShipping = text(assignment?.method) ?? text(raw.shipping_method);
  const shippingMethod = magentoShipping
    ? lookup(options.shippingMethods, magentoShipping, 'shipping method', '/extension_attributes/shipping_assignments/0/shipping/method', problems)
    : null;
  const shippingDescription = text(raw.shipping_description);
  const magentoPayment = text(raw.payment?.method) ?? '';
  if (!magentoPayment) problems.push({ field: '/payment/method', reason: 'is required' });
  const paymentMethod = magentoPayment ? lookup(options.paymentMethods, magentoPayment, 'payment method', '/payment/method', problems) : '';

  // Service lines
  const serviceLines: ErpServiceLine[] = [];
  let shippingBefore = 0;
  const shipsSomething = !virtual || shippingAddress !== null || (money.read(raw, 'shipping_amount', '') ?? 0) !== 0;
  if (shipsSomething) {
    const code = options.shippingCode || shippingMethod || magentoShipping || 'shipping';
    const shipping = shippingLine(raw, money, incl, code, shippingDescription ?? 'Shipping');
    serviceLines.push(shipping.line);
    shippingBefore = shipping.before;
  }
  const fixedProductTax = fixedProductTaxLine(items, money, incl, useBase);
  if (fixedProductTax) serviceLines.push(fixedProductTax);
  serviceLines.push(...feeLines(raw, options, money, incl));

  // Totals
  const grandTotal = money.read(raw, 'grand_total', '');
  if (grandTotal === undefined) problems.push({ field: useBase ? '/base_grand_total' : '/grand_total', reason: 'is required' });
  const lineSum = (gross: boolean) =>
    lines.reduce((s, l) => s + l.row_total + (gross ? l.tax : 0), 0) + serviceLines.reduce((s, l) => s + l.amount + (gross ? l.tax : 0), 0);
  const itemsSubtotal = lines.reduce((s, l) => s + l.row_total + l.discount, 0);
  const magentoSubtotal = incl ? money.read(raw, 'subtotal_incl_tax', '') : money.read(raw, 'subtotal', '');
  const subtotal = magentoSubtotal === undefined ? itemsSubtotal
    : withoutFixedProductTax(magentoSubtotal, itemsSubtotal, fixedProductTax ? fixedProductTax.amount : 0, Math.max(0.01, options.totalsTolerance));
  const tax = money.read(raw, 'tax_amount', '') ?? [...lines, ...serviceLines].reduce((s, l) => s + l.tax, 0);
  const discount = lines.reduce((s, l) => s + l.discount, 0) + serviceLines.reduce((s, l) => s + (l.discount ?? 0), 0);
  const fees = serviceLines.filter((l) => l.type !== 'shipping').reduce((s, l) => s + l.amount, 0);

  if (options.checkTotals && grandTotal !== undefined) {
    const sum = lineSum(!incl);
    const difference = sum - grandTotal;
    if (Math.abs(difference) > options.totalsTolerance + 1e-9) {
      problems.push({
        field: useBase ? '/base_grand_total' : '/grand_total',
        reason: `is ${fmt(grandTotal)} ${currency} but the lines and service lines add up to ${fmt(sum)} (${difference > 0 ? '+' : ''}${fmt(difference)}); ${
          Math.abs(difference) < 0.1
            ? "the order's line amounts and its totals were rounded apart"
            : 'an amount the mapping does not know (a fee or deduction from an extension?) needs a fee source'
        }`,
      });
    }
  }

  const rawStore = raw.store_id;
  if (!Number.isInteger(rawStore)) problems.push({ field: '/store_id', reason: 'must be an integer' });
  const createdAt = isoDate(raw.created_at);
  if (!createdAt) problems.push({ field: '/created_at', reason: 'must be a date-time such as 2024-05-31 13:45:00' });
  const updatedAt = raw.updated_at === undefined ? undefined : isoDate(raw.updated_at);
  if (raw.updated_at !== undefined && !updatedAt) problems.push({ field: '/updated_at', reason: 'must be a date-time such as 2024-05-31 13:45:00' });
  const magentoStatus = text(raw.status) ?? '';
  const rate = money.number(raw.base_to_order_rate, '/base_to_order_rate');
  const baseGrandTotal = useBase ? grandTotal : new AmountReader(true, true, []).read(raw, 'grand_total', '');

  const state = text(raw.state) ?? undefined;
  // Optional fields stay off the wire rather than travelling as undefined. Left out as the objects are
  // built, not deleted afterwards: a deleted property turns an object into a slow dictionary for every
  // reader after (schema check, JSON.stringify on the way to the ERP).
  const order: ErpOrder = {
    order_number: text(raw.increment_id) ?? '',
    status: magentoStatus ? lookup(options.statuses, magentoStatus, 'status', '/status', problems) : '',
    ...(state === undefined ? {} : { state }),
    created_at: createdAt ?? String(raw.created_at ?? ''),
    ...(updatedAt === undefined ? {} : { updated_at: updatedAt }),
    currency,
    prices_include_tax: incl,
    customer,
    billing_address: billing,
    shipping_address: shippingAddress,
    items: lines,
    service_lines: serviceLines,
    totals: {
      subtotal: round2(subtotal),
      shipping: round2(shippingBefore),
      tax: round2(tax),
      discount: round2(discount),
      fees: round2(fees),
      grand_total: round2(grandTotal ?? 0),
    },
    payment: { method: paymentMethod, magento_method: magentoPayment, amount: round2(grandTotal ?? 0), currency },
    shipping: { method: shippingMethod, magento_method: magentoShipping, description: shippingDescription },
    metadata: {
      store_id: Number.isInteger(rawStore) ? (rawStore as number) : 0,
      magento_order_id: Number(raw.entity_id),
      increment_id: text(raw.increment_id) ?? '',
      source: 'magento',
      ...(orderCurrency === null ? {} : { order_currency: orderCurrency }),
      ...(baseCurrency === null ? {} : { base_currency: baseCurrency }),
      ...(baseGrandTotal === undefined ? {} : { base_grand_total: round2(baseGrandTotal) }),
      base_to_order_rate: rate ?? null,
    },
  };

  if (options.fieldRules.length > 0) {
    applyFieldRules(options.fieldRules, raw, order, sources.map((s) => ({ item: s.item, parent: s.parent, child: s.child, index: s.index })), problems);
  }
  return { order, problems };
}

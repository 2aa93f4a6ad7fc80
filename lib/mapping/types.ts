/**
 * Shapes on both sides of the order mapping. The Magento side names only what the mapper reads
 * (Magento\Sales\Api\Data\OrderInterface, OrderItemInterface, OrderAddressInterface); the ERP side is
 * `schemas/erp-order.schema.json` in TypeScript.
 */

/** A Magento amount: a number in REST answers, sometimes a numeric string from webhook modules. */
export type MagentoAmount = number | string | null | undefined;

export interface MagentoAddress {
  firstname?: string | null;
  lastname?: string | null;
  company?: string | null;
  street?: string[] | string | null;
  city?: string | null;
  region?: string | { region?: string | null; region_code?: string | null } | null;
  region_code?: string | null;
  postcode?: string | null;
  country_id?: string | null;
  telephone?: string | null;
  email?: string | null;
  vat_id?: string | null;
  address_type?: string;
  [key: string]: unknown;
}

export interface MagentoOrderItem {
  item_id?: number;
  parent_item_id?: number | null;
  parent_item?: MagentoOrderItem;
  product_id?: number | null;
  sku: string;
  name?: string | null;
  product_type?: string;
  qty_ordered: MagentoAmount;
  price?: MagentoAmount;
  price_incl_tax?: MagentoAmount;
  row_total?: MagentoAmount;
  row_total_incl_tax?: MagentoAmount;
  tax_amount?: MagentoAmount;
  tax_percent?: MagentoAmount;
  discount_amount?: MagentoAmount;
  discount_tax_compensation_amount?: MagentoAmount;
  product_options?: { product_calculations?: number | string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface MagentoOrder {
  entity_id: number;
  increment_id: string;
  created_at: string;
  updated_at?: string;
  status: string;
  state?: string;
  store_id?: number;
  customer_email: string;
  customer_id?: number | null;
  customer_is_guest?: number | boolean | null;
  customer_group_id?: number | null;
  customer_firstname?: string | null;
  customer_lastname?: string | null;
  customer_taxvat?: string | null;
  order_currency_code?: string;
  base_currency_code?: string;
  base_to_order_rate?: MagentoAmount;
  is_virtual?: number | boolean | null;
  shipping_description?: string | null;
  shipping_method?: string | null;
  items: MagentoOrderItem[];
  billing_address: MagentoAddress;
  shipping_address?: MagentoAddress | null;
  payment: { method: string; [key: string]: unknown };
  extension_attributes?: {
    shipping_assignments?: Array<{ shipping?: { address?: MagentoAddress; method?: string | null; [key: string]: unknown } }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ErpAddress {
  first_name: string;
  last_name: string;
  company: string | null;
  street: string;
  street_lines: string[];
  city: string;
  region: string | null;
  region_code: string | null;
  postcode: string | null;
  country: string;
  telephone: string | null;
  email: string | null;
  vat_id: string | null;
  [key: string]: unknown;
}

export interface ErpItem {
  sku: string;
  name: string;
  qty: number;
  price: number;
  tax: number;
  discount: number;
  row_total: number;
  product_type: string;
  parent_sku: string | null;
  tax_percent: number | null;
  magento_item_id: number | null;
  [key: string]: unknown;
}

export interface ErpServiceLine {
  type: string;
  code: string;
  description: string;
  amount: number;
  tax: number;
  discount?: number;
  [key: string]: unknown;
}

export interface ErpOrder {
  order_number: string;
  status: string;
  /** Absent when Magento gave none (never sent as undefined). */
  state?: string;
  created_at: string;
  updated_at?: string;
  currency: string;
  prices_include_tax: boolean;
  customer: {
    email: string;
    first_name: string;
    last_name: string;
    customer_id: number | null;
    company: string | null;
    vat_id: string | null;
    is_guest: boolean;
    group_id: number | null;
    resolve_by: 'vat_id' | 'email';
    [key: string]: unknown;
  };
  billing_address: ErpAddress;
  shipping_address: ErpAddress | null;
  items: ErpItem[];
  service_lines: ErpServiceLine[];
  totals: { subtotal: number; shipping: number; tax: number; discount: number; fees: number; grand_total: number; [key: string]: unknown };
  payment: { method: string; magento_method: string; amount: number; currency: string; [key: string]: unknown };
  shipping: { method: string | null; magento_method: string | null; description: string | null; [key: string]: unknown };
  metadata: {
    store_id: number;
    magento_order_id: number;
    increment_id: string;
    source: string;
    /** The next three are absent when unknown. */
    order_currency?: string;
    base_currency?: string;
    base_grand_total?: number;
    base_to_order_rate: number | null;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One thing wrong with an order: a JSON pointer into the Magento order (or the ERP order) and why. */
export interface MappingProblem {
  field: string;
  reason: string;
}

// ---- configuration -------------------------------------------------------------------------------

/** What to do with a Magento code a lookup table does not list. */
export type UnknownCodePolicy = 'passthrough' | 'default' | 'error';

export interface LookupTable {
  /** Magento code → ERP code. */
  table: Record<string, string>;
  onUnknown: UnknownCodePolicy;
  /** The ERP code used for an unknown Magento code when `onUnknown` is `default`. */
  default?: string;
}

/**
 * An order-level amount that becomes a service line when it is not zero: a cash-on-delivery or payment
 * fee from an extension, or a deduction (gift card, store credit) that lowers the grand total.
 */
export interface FeeSource {
  /** Service line type, e.g. `cash_on_delivery`. */
  type: string;
  /** ERP article/service code of the line. */
  code: string;
  description: string;
  /**
   * Dotted paths into the Magento order, first one present wins (extensions put the same fee in
   * different places). In base-currency mode `base_` is put before the last segment.
   */
  amount: string[];
  tax?: string[];
  /**
   * In the base currency, the twins of `amount` and `tax`, path by path, where the module does not keep them
   * at `base_` + the last segment (Adobe Commerce gift wrapping: `gw_base_price` beside `gw_price`).
   */
  baseAmount?: string[];
  baseTax?: string[];
  /** The amount found already includes its tax (some COD modules store it so). */
  includesTax?: boolean;
  /** Lowers the total (gift card, store credit, reward points): the line's amount is negative. */
  deduction?: boolean;
}

/** A field rule: an ERP field set from a Magento path or a mustache template. */
export interface FieldRule {
  /** Dotted path in the ERP order (scope `order`) or in each ERP line (scope `item`). */
  target: string;
  /** Dotted path into the view: the Magento order (or item), `erp` the mapped result, `order`/`parent` for items. */
  source?: string;
  /** Mustache template rendered against the same view (no HTML escaping). */
  template?: string;
  scope?: 'order' | 'item';
  /** When the source is missing: leave the field as mapped, set it to null, or reject the order. */
  onMissing?: 'skip' | 'null' | 'error';
}

export interface MappingOptions {
  /** `excl_tax`: price, row_total, amounts without tax (tax separate). `incl_tax`: gross amounts. */
  amounts: 'excl_tax' | 'incl_tax';
  /** `order`: the currency the customer paid in (order_currency_code); `base`: the website's base currency. */
  currency: 'order' | 'base';
  /** `auto`: dynamic-price bundles as child lines, fixed-price bundles as one parent line. */
  bundles: 'auto' | 'parent' | 'children';
  /** Joins Magento's street lines into `street` (they stay apart in `street_lines`). */
  streetSeparator: string;
  paymentMethods: LookupTable;
  shippingMethods: LookupTable;
  statuses: LookupTable;
  /** ERP code of the shipping service line; empty = the (mapped) shipping method code. */
  shippingCode: string;
  fees: FeeSource[];
  fieldRules: FieldRule[];
  /** Reject an order whose lines and service lines do not add up to grand_total. */
  checkTotals: boolean;
  /** Largest accepted difference in the totals check (a cent by default). */
  totalsTolerance: number;
}

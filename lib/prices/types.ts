/** ERP prices and how Magento's price APIs take them. */

export type PriceType = 'base' | 'special' | 'tier';

export const PRICE_TYPES: readonly PriceType[] = ['base', 'special', 'tier'];

/** One price as the ERP sends it. Store/website default to 0 (all store views / all websites). */
export interface PriceUpdateInput {
  sku: string;
  price: number | string;
  /** Inferred when absent: from/to → special, customer_group or quantity → tier, else base. */
  type?: PriceType;
  store_id?: number | string;
  /** Special price window, `YYYY-MM-DD HH:MM:SS` (store time as Magento reads it) or `YYYY-MM-DD`. */
  price_from?: string;
  price_to?: string;
  from?: string;
  to?: string;
  /** Tier price: customer group code (`ALL GROUPS`, `NOT LOGGED IN`, `General`…), quantity and website. */
  customer_group?: string;
  quantity?: number | string;
  website_id?: number | string;
  /** Tier price: `fixed` amount or `discount` percentage. */
  price_type?: 'fixed' | 'discount';
  timestamp?: number | string;
}

export interface BasePrice { sku: string; price: number; store_id: number }
export interface SpecialPrice { sku: string; price: number; store_id: number; price_from: string; price_to: string }
export interface TierPrice { sku: string; price: number; price_type: 'fixed' | 'discount'; website_id: number; customer_group: string; quantity: number }

export type PriceUpdate =
  | { type: 'base'; body: BasePrice; timestamp?: number }
  | { type: 'special'; body: SpecialPrice; timestamp?: number }
  | { type: 'tier'; body: TierPrice; timestamp?: number };

export interface PriceOptions {
  /** Store view for prices that name none (0 = all store views, Magento's global scope). */
  defaultStoreId: number;
  /** Website for tier prices that name none (0 = all websites). */
  defaultWebsiteId: number;
  /** Customer group for tier prices that name none. */
  defaultCustomerGroup: string;
  /** Items per request; 0 = the store's input limit. */
  batchSize: number;
  windowMs: number;
  maxBuffered: number;
}

export const DEFAULT_PRICE_OPTIONS: Readonly<PriceOptions> = Object.freeze({
  defaultStoreId: 0,
  defaultWebsiteId: 0,
  defaultCustomerGroup: 'ALL GROUPS',
  batchSize: 0,
  windowMs: 250,
  maxBuffered: 10000,
});

export const PRICE_ENDPOINTS: Readonly<Record<PriceType, { path: string; operation: string }>> = Object.freeze({
  base: { path: '/products/base-prices', operation: 'prices.base.update' },
  special: { path: '/products/special-price', operation: 'prices.special.update' },
  tier: { path: '/products/tier-prices', operation: 'prices.tier.update' },
});

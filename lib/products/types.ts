/** ERP product core data (`schemas/erp-products.schema.json`) and what push-product answers per item. */

/** What the ERP owns of a product. Everything else (categories, images, visibility, url keys, status once live) is the shop team's. */
export interface ErpProduct {
  sku: string;
  name: string;
  price: number;
  short_description?: string;
  description?: string;
  weight?: number;
  /** Stock on creation only: later stock changes go through push-inventory. */
  qty?: number;
}

/** The core fields compared and written on update, in Magento's words. */
export const CORE_FIELDS = ['name', 'price', 'weight', 'description', 'short_description'] as const;
export type CoreField = typeof CORE_FIELDS[number];

export type ProductOutcome = 'created' | 'updated' | 'unchanged' | 'invalid' | 'failed';

export interface ProductItemResult {
  /** Position in the input (`items[index]`). */
  index: number;
  sku?: string;
  outcome: ProductOutcome;
  /** Magento's product id. */
  id?: number;
  /** For `updated`: the core fields that changed. */
  changed?: CoreField[];
  /** For `created`: Magento's status (2 = disabled, waiting for a person to finish it). */
  status?: number;
  reason?: string;
  /** For `invalid`: the field at fault (`items[3].price`). */
  field?: string;
  /** For `failed`: the error class (transient → worth retrying). */
  errorClass?: string;
}

export interface ProductCounts {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
  failed: number;
}

export interface ProductPushResult {
  /** `ok` when every item was applied (or already right), `failed` when none was, `partial` otherwise. */
  status: 'ok' | 'partial' | 'failed';
  counts: ProductCounts;
  items: ProductItemResult[];
  /** The store code the core values were written through (`all` = global/default values). */
  storeCode: string;
}

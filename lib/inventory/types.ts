/** Stock updates from the ERP and how they are pushed to Magento. */

/** One update as the ERP sends it (msg.payload, or one element of an array). */
export interface StockUpdateInput {
  sku: string;
  /** Physical quantity at the source (`quantity` is accepted too). */
  qty: number | string;
  /** Magento `source_code`; wins over `warehouse`. */
  source?: string;
  /** The ERP's warehouse code, mapped to a `source_code` by the node's table. */
  warehouse?: string;
  /** 1/0, true/false, `in_stock`/`out_of_stock`; derived from qty when absent. */
  status?: number | boolean | string;
  /** ERP time of the quantity (ms, ISO 8601 or `YYYY-MM-DD HH:MM:SS` UTC); older than applied → dropped. */
  timestamp?: number | string;
}

/** A validated update, in Magento's words. */
export interface SourceItemUpdate {
  sku: string;
  source_code: string;
  quantity: number;
  /** 1 in stock, 0 out of stock. */
  status: 0 | 1;
  /** Whether `status` was given or derived from quantity. */
  statusGiven: boolean;
  timestamp?: number;
}

export type InventoryMode = 'msi' | 'legacy' | 'bulk';

export const INVENTORY_MODES: readonly InventoryMode[] = ['msi', 'legacy', 'bulk'];

export interface InventoryOptions {
  mode: InventoryMode;
  /** Source for updates that name neither a source nor a warehouse. */
  defaultSource: string;
  /** ERP warehouse code → Magento source_code. */
  warehouses: Record<string, string>;
  allowNegative: boolean;
  /** Refuse updates for sources the store does not have (GET /V1/inventory/sources, cached). */
  checkSources: boolean;
  /** Look SKUs up before sending (GET /V1/products, `sku in (…)`, `fields=`), so an unknown SKU neither fails a batch nor leaves an orphan row. */
  checkSkus: boolean;
  /** Items per synchronous request; 0 = the store's input limit (settings.limits.maxItemsPerRequest). */
  batchSize: number;
  /** Coalescing window in ms (0 = send each message at once). */
  windowMs: number;
  /** Flush early once this many distinct SKU+source wait. */
  maxBuffered: number;
  /** Async bulk: operations per bulk request (0 = the store's maxBulkItems). */
  bulkSize: number;
  bulkPollMs: number;
  bulkMaxPollMs: number;
  bulkDeadlineMs: number;
}

export const DEFAULT_INVENTORY_OPTIONS: Readonly<InventoryOptions> = Object.freeze({
  mode: 'msi',
  defaultSource: 'default',
  warehouses: {},
  allowNegative: false,
  checkSources: true,
  checkSkus: true,
  batchSize: 0,
  windowMs: 250,
  maxBuffered: 10000,
  bulkSize: 0,
  bulkPollMs: 1000,
  bulkMaxPollMs: 10000,
  bulkDeadlineMs: 300000,
});

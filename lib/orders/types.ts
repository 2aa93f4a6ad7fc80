/** The parts of a Magento order (`GET /V1/orders`) the reader relies on; the rest travels untouched. */
export interface MagentoOrder {
  entity_id: number;
  increment_id?: string;
  updated_at?: string;
  created_at?: string;
  status?: string;
  state?: string;
  store_id?: number;
  customer_id?: number | null;
  customer_is_guest?: number | boolean;
  [key: string]: unknown;
}

/** What enrichment adds to one order (each list empty when the order has none). */
export interface OrderEnrichment {
  invoices?: unknown[];
  shipments?: unknown[];
  /** The customer record; null for a guest order or a customer Magento no longer has. */
  customer?: unknown | null;
}

export interface EnrichOptions {
  invoices?: boolean;
  shipments?: boolean;
  customer?: boolean;
}

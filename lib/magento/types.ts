/**
 * The contract of the Magento REST client every node uses. The implementation lives in client.ts;
 * nodes and core modules depend on these types only, so they can be tested against a fake.
 */

export type AuthSettings =
  | { type: 'oauth1'; consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string }
  | { type: 'bearer'; token: string }
  | { type: 'admin'; username: string; password: string }
  | { type: 'none' };

export type AuthType = AuthSettings['type'];

/** Magento 2.4.3+ webapi input limits (Stores > Configuration > Services > Web API Input Limits). */
export interface InputLimits {
  /** Max items in one list of a synchronous request (default 20). */
  maxItemsPerRequest: number;
  /** Max `searchCriteria[pageSize]` (default 300). */
  maxPageSize: number;
  /** Max items in one async bulk request (default 5000). */
  maxBulkItems: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = Object.freeze({
  maxItemsPerRequest: 20,
  maxPageSize: 300,
  maxBulkItems: 5000,
});

export interface StoreSettings {
  /** A human name for logs, status and audit records (the store-config node's name). */
  name: string;
  /** e.g. https://shop.example.com (no /rest suffix). */
  baseUrl: string;
  /** `default`, a store view code, or `all`. */
  storeCode: string;
  auth: AuthSettings;
  timeoutMs: number;
  maxConcurrency: number;
  /** Requests per second; 0 = no limit. Excess requests queue, they do not fail. */
  requestsPerSecond: number;
  rejectUnauthorized: boolean;
  limits: InputLimits;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Query parameters as Magento reads them, already flattened (`searchCriteria[filter_groups][0]...`). */
export type QueryParams = Record<string, string | number | boolean>;

export interface MagentoRequest {
  method: HttpMethod;
  /**
   * Route after `/V1`, starting with `/`, with every path parameter already encoded by
   * `encodePathSegment` (SKUs may hold `/`, spaces, `#`, `+`): e.g. `/products/${encodePathSegment(sku)}`.
   */
  path: string;
  query?: QueryParams;
  body?: unknown;
  /** Overrides the store code of the settings for this call (e.g. `all` for global product values). */
  storeCode?: string;
  /** `async` → /rest/<code>/async/V1/…, `bulk` → /rest/<code>/async/bulk/V1/…. */
  mode?: 'sync' | 'async' | 'bulk';
  /** Audit label, e.g. "orders.list", "inventory.source-items.save". */
  operation?: string;
  /** What the call is about, for the audit log (ids only, never PII). */
  entity?: { type: string; id?: string | number };
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Overrides settings.timeoutMs. */
  timeoutMs?: number;
}

/** One audited call. Never holds a token, secret, header value or request body. */
export interface CallRecord {
  time: string;
  store: string;
  /** Magento's REST API uses these four; an ERP call (lib/erp, store `erp`) may also PATCH. */
  method: HttpMethod | 'PATCH';
  /** Full route as sent (/rest/<code>/V1/...) without the query string. */
  route: string;
  operation?: string;
  entityType?: string;
  entityId?: string;
  idempotencyKey?: string;
  status?: number;
  durationMs: number;
  error?: string;
  errorClass?: string;
}

export interface SearchResult<T> {
  items: T[];
  search_criteria: unknown;
  total_count: number;
}

export interface Filter {
  field: string;
  value?: string | number | boolean | Array<string | number>;
  conditionType?: ConditionType;
}

export type ConditionType =
  | 'eq' | 'neq' | 'gt' | 'gteq' | 'lt' | 'lteq' | 'in' | 'nin' | 'like' | 'nlike'
  | 'null' | 'notnull' | 'from' | 'to' | 'finset' | 'nfinset' | 'moreq';

export interface SortOrder {
  field: string;
  direction: 'ASC' | 'DESC';
}

/** The searchCriteria object, as Magento's SearchCriteriaInterface names it. */
export interface SearchCriteria {
  /** AND of groups; OR of the filters inside a group. */
  filterGroups: Filter[][];
  sortOrders?: SortOrder[];
  pageSize?: number;
  currentPage?: number;
}

export interface PageOptions {
  signal?: AbortSignal;
  operation?: string;
  /** Trim the answer, e.g. `items[entity_id,increment_id],total_count` (`total_count` is added when paging needs it). */
  fields?: string;
  /**
   * A unique field added as the last sort order (ASC) unless already sorted by it, so paging neither
   * skips nor repeats rows that tie on the other sort keys: e.g. `entity_id` for orders.
   */
  stableSortKey?: string;
}

export interface MagentoClient {
  readonly settings: Readonly<StoreSettings>;
  /** Sends one request; resolves with the parsed JSON body, rejects with a MagentoError. */
  request<T = unknown>(req: MagentoRequest): Promise<T>;
  /** One page of a list route. */
  search<T = unknown>(path: string, criteria: SearchCriteria, options?: PageOptions): Promise<SearchResult<T>>;
  /**
   * Every page of a list route, one at a time (never collected): stops by `total_count`, because
   * Magento answers a page past the end with the last page again.
   */
  pages<T = unknown>(path: string, criteria: SearchCriteria, options?: PageOptions): AsyncIterable<SearchResult<T> & { page: number; pages: number }>;
  /** Registers a listener for every call made (audit log); returns an unsubscribe function. */
  onCall(listener: (record: CallRecord) => void): () => void;
  /** Frees sockets and timers. */
  close(): void;
}

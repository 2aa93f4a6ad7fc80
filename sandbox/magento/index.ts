/**
 * A Magento 2.4 REST simulator, embeddable in tests and started by `npm start` / `npm run sandbox`.
 *
 *   const sandbox = await startMagentoSandbox({ orders: 500 });
 *   // store-config: baseUrl = sandbox.url, storeCode 'default', bearer token sandbox.credentials.bearerToken
 *   await sandbox.close();
 */
import type { FaultConfig } from './faults';
import type { Order } from './order-factory';
import { DEFAULT_SANDBOX_INPUT_LIMITS, type InputLimits } from './routes';
import { SandboxServer, validateOrderStatuses, type RecordedRequest } from './server';
import type { Delivery } from './webhooks';

export type { FaultConfig, FaultRule } from './faults';
export { faultsFromEnv } from './faults';
export type { RecordedRequest } from './server';
export type { InputLimits } from './routes';
export type { Delivery } from './webhooks';
export { signWebhook, webhookBody } from './webhooks';
export type { Order } from './order-factory';

/** Documented defaults (README, "Magento sandbox"). Sandbox-only values: never real secrets. */
export const SANDBOX_DEFAULTS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  seed: 42,
  orders: 200,
  bearerToken: 'sandbox-token',
  adminUser: 'admin',
  adminPassword: 'sandbox123',
  oauth: Object.freeze({
    consumerKey: 'sandbox-consumer-key',
    consumerSecret: 'sandbox-consumer-secret',
    accessToken: 'sandbox-access-token',
    accessTokenSecret: 'sandbox-access-token-secret',
  }),
  /** Stores > Configuration > Services > OAuth > Allow OAuth Access Tokens to be used as standalone Bearer tokens. */
  integrationAsBearer: true,
  adminTokenTtlHours: 4,
});

export interface MagentoSandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** Seeded orders (0 to 100 000+; generated on demand, not held in memory). */
  orders?: number;
  /** The integration access token accepted as `Authorization: Bearer` (when integrationAsBearer is on). */
  bearerToken?: string;
  adminUser?: string;
  adminPassword?: string;
  oauth?: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  integrationAsBearer?: boolean;
  /** Admin token lifetime (Magento default 4 h). */
  adminTokenTtlHours?: number;
  /** Act as a store with Magento_TwoFactorAuth on: `POST /V1/integration/admin/token` is refused (default false). */
  adminTwoFactorAuth?: boolean;
  webhookUrl?: string;
  webhookSecret?: string;
  /** Sign `timestamp + "." + body` instead of the raw body. */
  webhookSignTimestamp?: boolean;
  inputLimits?: Partial<InputLimits>;
  /** Faults active from the start (e.g. from SANDBOX_FAULTS through `faultsFromEnv`). */
  faults?: FaultConfig;
  /** Seeded customers (default 60). */
  customers?: number;
  /**
   * Custom order statuses assigned to states (Stores > Order Status > Assign Status to State), e.g.
   * `{new: ['pending_stock']}`: a comment may then set them on orders in that state (Magento 2.4.7 refuses others).
   */
  orderStatuses?: Record<string, string[]>;
  /** Recorded requests kept (default 10 000; oldest dropped first). */
  maxRecordedRequests?: number;
  /** Clock for tests (default Date.now). */
  now?: () => number;
}

export interface MagentoSandboxCredentials {
  bearerToken: string;
  adminUser: string;
  adminPassword: string;
  oauth: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
}

export interface MagentoSandbox {
  /** e.g. http://127.0.0.1:7080 (the store base URL; REST is under /rest/<store_code>/V1). */
  readonly url: string;
  readonly port: number;
  readonly credentials: MagentoSandboxCredentials;
  close(): Promise<void>;
  requests(): RecordedRequest[];
  clearRequests(): void;
  /** `{}` clears every fault. */
  setFaults(f: FaultConfig): void;
  /** Places n new orders (state new / pending); with `webhook` sends `order.placed` for each and waits for the answers. */
  placeOrders(n: number, options?: { webhook?: boolean; duplicate?: boolean; outOfOrder?: boolean }): Promise<Order[]>;
  /** Back to the seeded state (orders, stock, prices, tokens, faults, request log). */
  reset(): void;
  /** Turns the async-bulk consumer on or off ("consumers not running"). */
  setConsumers(running: boolean): void;
  /** Waits until the bulk consumer has processed everything queued (returns at once when it is off). */
  drainBulk(): Promise<void>;
  /** Changes runtime settings: integrationAsBearer, adminTokenTtlSeconds, adminTwoFactorAuth, inputLimits, webhookUrl/Secret/SignTimestamp. */
  configure(settings: Record<string, unknown>): void;
  /** Ends every admin token now. */
  expireAdminTokens(): void;
  /** Webhook deliveries made so far. */
  webhookDeliveries(): Delivery[];
  // Direct reads for tests (Magento's own field names; undefined when absent).
  getOrder(entityId: number): Order | undefined;
  getSourceItem(sku: string, sourceCode: string): { sku: string; source_code: string; quantity: number; status: number } | undefined;
  /** Base price a store sees (store value, else global). */
  getPrice(sku: string, storeId?: number): number | undefined;
  getProduct(sku: string): Record<string, unknown> | undefined;
  getSpecialPrices(sku: string): Array<Record<string, unknown>>;
  getTierPrices(sku: string): Array<Record<string, unknown>>;
  /** Entity ids 1..seededOrders are seeded; later ones were placed while running. */
  readonly seededOrders: number;
  /** Orders held in memory (changed or placed): stays small however many are seeded. */
  changedOrders(): number;
}

export async function startMagentoSandbox(options: MagentoSandboxOptions = {}): Promise<MagentoSandbox> {
  const d = SANDBOX_DEFAULTS;
  const credentials: MagentoSandboxCredentials = {
    bearerToken: options.bearerToken ?? d.bearerToken,
    adminUser: options.adminUser ?? d.adminUser,
    adminPassword: options.adminPassword ?? d.adminPassword,
    oauth: { ...(options.oauth ?? d.oauth) },
  };
  const orders = options.orders ?? d.orders;
  if (!Number.isInteger(orders) || orders < 0) throw new TypeError('orders: expected a whole number of 0 or more');
  const server = new SandboxServer({
    seed: options.seed ?? d.seed,
    orders,
    bearerToken: credentials.bearerToken,
    adminUser: credentials.adminUser,
    adminPassword: credentials.adminPassword,
    oauth: credentials.oauth,
    integrationAsBearer: options.integrationAsBearer ?? d.integrationAsBearer,
    adminTokenTtlMs: (options.adminTokenTtlHours ?? d.adminTokenTtlHours) * 3600_000,
    adminTwoFactorAuth: options.adminTwoFactorAuth ?? false,
    inputLimits: { ...DEFAULT_SANDBOX_INPUT_LIMITS, ...(options.inputLimits ?? {}) },
    webhook: { url: options.webhookUrl, secret: options.webhookSecret, signTimestamp: options.webhookSignTimestamp },
    customers: options.customers ?? 60,
    orderStatuses: validateOrderStatuses(options.orderStatuses ?? {}),
    maxRecorded: options.maxRecordedRequests ?? 10_000,
  }, options.now ?? Date.now);
  if (options.faults) server.setFaults(options.faults);
  await server.listen(options.port ?? d.port, options.host ?? d.host);
  const port = Number(new URL(server.url).port);
  return {
    url: server.url,
    port,
    credentials,
    seededOrders: orders,
    close: () => server.close(),
    requests: () => server.requests(),
    clearRequests: () => server.clearRequests(),
    setFaults: (f) => server.setFaults(f),
    async placeOrders(n, opts = {}) {
      const placed = server.orders.place(n);
      if (opts.webhook) await server.webhooks.send('order.placed', placed, { duplicate: opts.duplicate, outOfOrder: opts.outOfOrder });
      return placed.map((o) => structuredClone(o));
    },
    reset: () => server.reset(),
    setConsumers: (running) => server.bulk.setRunning(running),
    drainBulk: () => server.bulk.drain(),
    configure: (settings) => server.applyConfig(settings),
    expireAdminTokens: () => server.auth.expireAdminTokens(),
    webhookDeliveries: () => server.webhooks.deliveries.slice(),
    getOrder: (id) => { const o = server.orders.find(id); return o ? structuredClone(o) : undefined; },
    getSourceItem: (sku, source) => { const s = server.catalog.getSourceItem(sku, source); return s ? { ...s } : undefined; },
    getPrice: (sku, storeId = 0) => server.catalog.getPrice(sku, storeId),
    getProduct: (sku) => { const p = server.catalog.getProduct(sku); return p ? server.catalog.productView(p, 0, true) : undefined; },
    getSpecialPrices: (sku) => server.catalog.specialPrices.filter((s) => s.sku.toLowerCase() === sku.toLowerCase()).map((s) => ({ ...s })),
    getTierPrices: (sku) => server.catalog.tierPrices.filter((s) => s.sku.toLowerCase() === sku.toLowerCase()).map((s) => ({ ...s })),
    changedOrders: () => server.orders.overlaySize,
  };
}

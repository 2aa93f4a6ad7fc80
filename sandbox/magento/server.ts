/**
 * The HTTP side: Magento's URL space (`/rest/<store>/V1`, `/rest/<store>/async/V1`,
 * `/rest/<store>/async/bulk/V1`, `/rest/V1` for the default store), authentication and ACL, fault
 * injection, request recording, and the sandbox's own control routes under `/__sandbox/`.
 */
import http from 'http';
import type { AddressInfo, Socket } from 'net';
import { Auth, type AuthKind } from './auth';
import { BulkQueue } from './bulk';
import { Catalog } from './catalog';
import { Faults, validateFaults, type FaultConfig } from './faults';
import type { Order } from './order-factory';
import { OrderBook, STATE_STATUSES, type OrderEvent } from './orders';
import { RawJson, hasBodyParam, matchRoute, type InputLimits, type RouteContext, type World } from './routes';
import { applyFields } from './search';
import { storeByCode } from './stores';
import { WebhookSender, type WebhookConfig } from './webhooks';
import { WebapiError, noRoute, notAuthorized } from './webapi-error';

export interface RecordedRequest {
  id: number;
  time: string;
  method: string;
  /** Path without the query string, as received (still percent-encoded). */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  status: number;
  /** How the caller authenticated; never the token itself. */
  auth: AuthKind | 'none';
  durationMs: number;
  /** `sync`, `async` or `bulk` for Magento routes, `control` for /__sandbox/. */
  mode: 'sync' | 'async' | 'bulk' | 'control' | 'other';
  storeCode?: string;
  /** The fault injected into this request, if any. */
  fault?: string;
  /** The Magento error message (template) when the answer was an error. */
  error?: string;
}

export interface SandboxConfig {
  seed: number;
  orders: number;
  bearerToken: string;
  adminUser: string;
  adminPassword: string;
  oauth: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  integrationAsBearer: boolean;
  adminTokenTtlMs: number;
  adminTwoFactorAuth: boolean;
  inputLimits: InputLimits;
  webhook: WebhookConfig;
  customers: number;
  maxRecorded: number;
  /** Custom order statuses by the state they are assigned to, e.g. `{new: ['pending_stock']}`. */
  orderStatuses: Record<string, string[]>;
}

/** Checks `{state: [status, ...]}`: known states, status codes as Magento's admin form accepts them. */
export function validateOrderStatuses(input: unknown): Record<string, string[]> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new TypeError('orderStatuses: expected an object of state → list of status codes');
  const out: Record<string, string[]> = {};
  for (const [state, list] of Object.entries(input as Record<string, unknown>)) {
    if (!Object.prototype.hasOwnProperty.call(STATE_STATUSES, state)) throw new TypeError(`orderStatuses.${state}: not an order state (${Object.keys(STATE_STATUSES).join(', ')})`);
    if (!Array.isArray(list)) throw new TypeError(`orderStatuses.${state}: expected a list of status codes`);
    out[state] = list.map((code, i) => {
      if (typeof code !== 'string' || !/^[a-z][a-z0-9_]{0,31}$/.test(code)) {
        throw new TypeError(`orderStatuses.${state}[${i}]: a status code is lowercase letters, digits and "_", starting with a letter`);
      }
      return code;
    });
  }
  return out;
}

const MAX_BODY = 32 * 1024 * 1024;

export class SandboxServer {
  readonly server: http.Server;
  catalog!: Catalog;
  orders!: OrderBook;
  readonly auth: Auth;
  readonly faults = new Faults();
  readonly bulk: BulkQueue;
  readonly webhooks: WebhookSender;
  private recorded: RecordedRequest[] = [];
  private seq = 0;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<http.ServerResponse>();
  private world!: World;
  url = '';

  constructor(readonly config: SandboxConfig, private readonly now: () => number = Date.now) {
    this.auth = new Auth({
      bearerToken: config.bearerToken, adminUser: config.adminUser, adminPassword: config.adminPassword, oauth: config.oauth,
      integrationAsBearer: config.integrationAsBearer, adminTokenTtlMs: config.adminTokenTtlMs, adminTwoFactorAuth: config.adminTwoFactorAuth, now,
    });
    this.bulk = new BulkQueue(now);
    this.webhooks = new WebhookSender(config.webhook);
    this.seed();
    this.server = http.createServer((req, res) => { void this.handle(req, res); });
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  private seed(): void {
    this.catalog = new Catalog(this.config.seed, this.config.customers);
    this.orders = new OrderBook(this.config.seed, this.config.orders, this.catalog, this.now);
    this.orders.customStatuses = this.config.orderStatuses;
    this.world = {
      catalog: this.catalog,
      orders: this.orders,
      limits: this.config.inputLimits,
      baseUrl: () => this.url,
      now: this.now,
      onOrderEvent: (event: OrderEvent, order: Order) => this.webhooks.emit(event, [order]),
      issueAdminToken: (u, p) => this.auth.issueAdminToken(u, p),
      bulk: this.bulk,
    };
  }

  /** Back to the seeded state: orders, catalogue, stock, prices, tokens, bulks, faults and the request log. */
  reset(): void {
    this.seed();
    this.auth.clear();
    this.bulk.clear();
    this.faults.set({});
    this.recorded = [];
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    const a = this.server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    await this.webhooks.idle();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  requests(): RecordedRequest[] {
    return this.recorded.slice();
  }

  clearRequests(): void {
    this.recorded = [];
  }

  private record(r: Omit<RecordedRequest, 'id' | 'time'>, started: number): void {
    this.recorded.push({ id: ++this.seq, time: new Date(started).toISOString(), ...r });
    if (this.recorded.length > this.config.maxRecorded) this.recorded.splice(0, this.recorded.length - this.config.maxRecorded);
  }

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new WebapiError(413, 'Request entity too large.');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, raw?: string): void {
    const text = raw ?? JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = this.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = v;
    if (path.startsWith('/__sandbox')) return this.control(req, res, method, path, query, started);
    const m = /^\/(?:index\.php\/)?rest(?:\/([^/]+))?\/(?:(async\/bulk|async)\/)?V1(\/.*)$/.exec(path);
    if (!m) {
      this.send(res, 404, noRoute().body());
      this.record({ method, path, query, status: 404, auth: 'none', durationMs: this.now() - started, mode: 'other', error: 'Request does not match any route.' }, started);
      return;
    }
    const storeCode = m[1] && m[1] !== 'V1' ? m[1] : 'default';
    const mode = m[2] === 'async/bulk' ? 'bulk' : m[2] === 'async' ? 'async' : 'sync';
    const routePath = m[3];
    let authKind: AuthKind = 'anonymous';
    const done = (status: number, extra: Partial<RecordedRequest> = {}): void =>
      this.record({ method, path, query, status, auth: authKind, durationMs: this.now() - started, mode, storeCode, ...extra }, started);

    // Faults come first: a proxy or an overloaded PHP-FPM answers before Magento does.
    const fault = this.faults.decide(method, path);
    if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.action === 'reset') {
      req.socket.destroy();
      done(0, { fault: 'reset' });
      return;
    }
    if (fault.action === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      done(0, { fault: 'hang' });
      return;
    }
    if (typeof fault.action === 'number') {
      const status = fault.action;
      const headers: Record<string, string> = status === 429 || status === 503 ? { 'Retry-After': String(fault.retryAfter ?? 1) } : {};
      if (status === 502 || status === 503) {
        // What nginx in front of Magento answers: HTML, not Magento JSON.
        const html = `<html><head><title>${status} ${http.STATUS_CODES[status]}</title></head><body><center><h1>${status} ${http.STATUS_CODES[status]}</h1></center><hr><center>nginx</center></body></html>`;
        res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html), ...headers });
        res.end(html);
      } else if (status === 429) {
        this.send(res, 429, { message: 'Too Many Requests' }, headers);
      } else {
        this.send(res, status, { message: 'Internal Error. Details are available in Magento log file. Report ID: %1', parameters: [`webapi-sandbox-${this.seq + 1}`] }, headers);
      }
      done(status, { fault: String(status) });
      return;
    }

    try {
      const store = storeCode === 'all' ? { id: 0 } : storeByCode(storeCode);
      if (!store) throw new WebapiError(400, "The store that was requested wasn't found. Verify the store and try again.");
      const match = matchRoute(method, routePath);
      if (!match) throw noRoute();
      const { route } = match;
      const url = `http://${req.headers.host ?? '127.0.0.1'}${rawUrl}`;
      if (route.resource !== 'anonymous') {
        const a = this.auth.authenticate(method, url, req.headers.authorization);
        authKind = a.kind;
        if (a.error) throw a.error;
        if (a.kind === 'anonymous' || a.kind === 'rejected') throw notAuthorized(route.resource);
      } else if (req.headers.authorization) {
        authKind = this.auth.authenticate(method, url, req.headers.authorization).kind;
      }
      // The hot path: a cached order JSON.
      if (mode === 'sync' && method === 'GET' && route.path === '/orders/:id' && !query.fields && /^\d+$/.test(match.params.id)) {
        const json = this.orders.json(Number(match.params.id));
        this.send(res, 200, undefined, {}, json);
        done(200);
        return;
      }
      const text = method === 'GET' ? '' : await this.readBody(req);
      let body: unknown = undefined;
      if (text.trim()) {
        const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (!type) throw new WebapiError(400, 'Content-Type header is empty.');
        if (type !== 'application/json' && !type.endsWith('+json')) throw new WebapiError(400, 'Server cannot understand Content-Type HTTP header media type %1', [type]);
        try { body = JSON.parse(text); } catch { throw new WebapiError(400, 'Decoding error: \nSyntax error'); }
      }
      const ctx: RouteContext = { params: match.params, rawQuery, body, storeCode, storeId: store.id, async: mode !== 'sync' };
      if (mode !== 'sync') {
        if (method === 'GET') throw noRoute();
        const result = this.submitAsync(mode, route, ctx, authKind);
        this.send(res, 202, result);
        done(202);
        return;
      }
      const result = route.handle(this.world, ctx);
      if (result instanceof RawJson) {
        if (query.fields) this.send(res, 200, applyFields(JSON.parse(result.text), query.fields));
        else this.send(res, 200, undefined, {}, result.text);
      } else this.send(res, 200, applyFields(result, query.fields));
      done(200);
    } catch (err) {
      const e = err instanceof WebapiError ? err : new WebapiError(500, 'Internal Error. Details are available in Magento log file. Report ID: %1', [`webapi-sandbox-${this.seq + 1}`]);
      if (!(err instanceof WebapiError)) process.emitWarning(`magento sandbox: ${(err as Error)?.stack ?? String(err)}`);
      this.send(res, e.status, e.body(), e.headers);
      done(e.status, { error: e.rawMessage });
    }
  }

  private submitAsync(mode: 'async' | 'bulk', route: NonNullable<ReturnType<typeof matchRoute>>['route'], ctx: RouteContext, authKind: AuthKind): Record<string, unknown> {
    if (!route.topic) throw noRoute();
    const items = mode === 'bulk' ? ctx.body : [ctx.body];
    if (!Array.isArray(items)) throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'bulk request', value: 'expected a list of request bodies' });
    if (this.config.inputLimits.enabled && items.length > this.config.inputLimits.maxBulkItems) throw new WebapiError(400, 'Maximum items of type "%type" is %max', { type: 'bulk request', max: this.config.inputLimits.maxBulkItems });
    const userType = authKind === 'admin-token' ? 2 : 1;
    return this.bulk.submit(route.topic, items.map((item) => {
      const params = { ...ctx.params };
      if (route.bulkParam) {
        const placeholder = `by${route.bulkParam.name[0].toUpperCase()}${route.bulkParam.name.slice(1)}`;
        if (params[route.bulkParam.name] === placeholder) {
          let v: unknown = item;
          for (const part of route.bulkParam.from.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
          if (v === undefined) return { body: item, error: new WebapiError(400, '"%fieldName" is required. Enter and try again.', { fieldName: route.bulkParam.name }) };
          params[route.bulkParam.name] = String(v);
        }
      }
      if (route.bodyParam && !hasBodyParam(item, route.bodyParam)) {
        return { body: item, error: new WebapiError(400, '"%fieldName" is required. Enter and try again.', { fieldName: route.bodyParam }) };
      }
      const opCtx: RouteContext = { ...ctx, params, body: item };
      return { body: item, run: () => route.handle(this.world, opCtx) };
    }), userType);
  }

  // ---- /__sandbox/ -------------------------------------------------------------------------

  private async control(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, query: Record<string, string>, started: number): Promise<void> {
    let status = 200;
    let out: unknown;
    try {
      const text = method === 'GET' ? '' : await this.readBody(req);
      let body: Record<string, unknown> = {};
      if (text.trim()) {
        try { body = JSON.parse(text); } catch { throw new WebapiError(400, 'The body is not JSON.'); }
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new WebapiError(400, 'The body must be a JSON object.');
      }
      const route = `${method} ${path.replace(/\/+$/, '')}`;
      switch (route) {
        case 'GET /__sandbox':
          out = this.info();
          break;
        case 'GET /__sandbox/faults':
          out = this.faults.get();
          break;
        case 'POST /__sandbox/faults':
          try { this.faults.set(validateFaults(body)); } catch (e) { throw new WebapiError(400, (e as Error).message); }
          out = this.faults.get();
          break;
        case 'POST /__sandbox/orders': {
          const count = body.count === undefined ? 1 : Number(body.count);
          if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new WebapiError(400, 'count: expected a whole number from 1 to 10000');
          const placed = this.orders.place(count);
          let deliveries: unknown[] = [];
          if (body.webhook) deliveries = await this.webhooks.send('order.placed', placed, { duplicate: Boolean(body.duplicate), outOfOrder: Boolean(body.outOfOrder) });
          out = { orders: placed.map((o) => ({ entity_id: o.entity_id, increment_id: o.increment_id, created_at: o.created_at, grand_total: o.grand_total })), deliveries };
          break;
        }
        case 'GET /__sandbox/requests': {
          const since = Number(query.since ?? 0);
          const limit = Math.min(Number(query.limit ?? 1000) || 1000, 10_000);
          const list = this.recorded.filter((r) => r.id > since && (!query.path || r.path.includes(query.path)));
          out = { requests: list.slice(-limit), total: list.length };
          break;
        }
        case 'DELETE /__sandbox/requests':
          this.clearRequests();
          out = { cleared: true };
          break;
        case 'POST /__sandbox/reset':
          this.reset();
          out = { reset: true, orders: this.orders.seededCount };
          break;
        case 'GET /__sandbox/consumers':
          out = { running: this.bulk.running, pending: this.bulk.pending };
          break;
        case 'POST /__sandbox/consumers':
          if (typeof body.running !== 'boolean') throw new WebapiError(400, 'running: expected true or false');
          this.bulk.setRunning(body.running);
          out = { running: this.bulk.running, pending: this.bulk.pending };
          break;
        case 'GET /__sandbox/config':
          out = this.publicConfig();
          break;
        case 'POST /__sandbox/config':
          this.applyConfig(body);
          out = this.publicConfig();
          break;
        case 'POST /__sandbox/tokens/expire':
          this.auth.expireAdminTokens();
          out = { expired: true };
          break;
        case 'GET /__sandbox/webhooks':
          out = { enabled: this.webhooks.enabled, deliveries: this.webhooks.deliveries.slice(-1000) };
          break;
        case 'POST /__sandbox/webhooks': {
          const ids = Array.isArray(body.orderIds) ? body.orderIds.map(Number) : [];
          if (!ids.length) throw new WebapiError(400, 'orderIds: expected a list of order entity ids');
          const orders = ids.map((id) => this.orders.find(id)).filter((o): o is Order => Boolean(o));
          const event = typeof body.event === 'string' ? body.event : 'order.updated';
          out = { deliveries: await this.webhooks.send(event, orders, { duplicate: Boolean(body.duplicate), outOfOrder: Boolean(body.outOfOrder) }) };
          break;
        }
        default:
          throw new WebapiError(404, `No sandbox control route ${route}. See README, "Magento sandbox".`);
      }
    } catch (err) {
      const e = err instanceof WebapiError ? err : new WebapiError(500, (err as Error).message);
      status = e.status;
      out = { message: e.message };
    }
    this.send(res, status, out);
    this.record({ method, path, query, status, auth: 'none', durationMs: this.now() - started, mode: 'control' }, started);
  }

  private info(): Record<string, unknown> {
    return {
      magento: '2.4 (sandbox)', url: this.url, seed: this.config.seed, seededOrders: this.orders.seededCount, orders: this.orders.size,
      changedOrders: this.orders.overlaySize, products: this.catalog.products.size, customers: this.catalog.customers.size,
      sources: [...this.catalog.sources.keys()], stores: ['default', 'fr', 'de'], consumersRunning: this.bulk.running,
      webhooks: this.webhooks.enabled, requestsRecorded: this.recorded.length,
    };
  }

  private publicConfig(): Record<string, unknown> {
    return {
      integrationAsBearer: this.auth.options.integrationAsBearer,
      adminTokenTtlSeconds: this.auth.options.adminTokenTtlMs / 1000,
      adminTwoFactorAuth: this.auth.options.adminTwoFactorAuth,
      inputLimits: { ...this.config.inputLimits },
      orderStatuses: structuredClone(this.config.orderStatuses),
      webhookUrl: this.webhooks.config.url ?? null,
      webhookSecretSet: Boolean(this.webhooks.config.secret),
      webhookSignTimestamp: Boolean(this.webhooks.config.signTimestamp),
    };
  }

  applyConfig(body: Record<string, unknown>): void {
    if (body.integrationAsBearer !== undefined) {
      if (typeof body.integrationAsBearer !== 'boolean') throw new WebapiError(400, 'integrationAsBearer: expected true or false');
      this.auth.options.integrationAsBearer = body.integrationAsBearer;
    }
    if (body.adminTwoFactorAuth !== undefined) {
      if (typeof body.adminTwoFactorAuth !== 'boolean') throw new WebapiError(400, 'adminTwoFactorAuth: expected true or false');
      this.auth.options.adminTwoFactorAuth = body.adminTwoFactorAuth;
    }
    if (body.adminTokenTtlSeconds !== undefined) {
      const n = Number(body.adminTokenTtlSeconds);
      if (!Number.isFinite(n) || n < 0) throw new WebapiError(400, 'adminTokenTtlSeconds: expected a number of seconds');
      this.auth.options.adminTokenTtlMs = n * 1000;
    }
    if (body.inputLimits !== undefined) {
      const l = body.inputLimits as Record<string, unknown>;
      if (!l || typeof l !== 'object') throw new WebapiError(400, 'inputLimits: expected an object');
      for (const k of ['maxItemsPerRequest', 'maxPageSize', 'defaultPageSize', 'maxBulkItems'] as const) {
        if (l[k] === undefined) continue;
        const n = Number(l[k]);
        if (!Number.isInteger(n) || n < 1) throw new WebapiError(400, `inputLimits.${k}: expected a whole number of 1 or more`);
        this.config.inputLimits[k] = n;
      }
      if (l.enabled !== undefined) this.config.inputLimits.enabled = Boolean(l.enabled);
    }
    if (body.orderStatuses !== undefined) {
      try { this.config.orderStatuses = validateOrderStatuses(body.orderStatuses); } catch (e) { throw new WebapiError(400, (e as Error).message); }
      this.orders.customStatuses = this.config.orderStatuses;
    }
    if (body.webhookUrl !== undefined) this.webhooks.config.url = body.webhookUrl ? String(body.webhookUrl) : undefined;
    if (body.webhookSecret !== undefined) this.webhooks.config.secret = body.webhookSecret ? String(body.webhookSecret) : undefined;
    if (body.webhookSignTimestamp !== undefined) this.webhooks.config.signTimestamp = Boolean(body.webhookSignTimestamp);
  }

  setFaults(f: FaultConfig): void {
    this.faults.set(validateFaults(f));
  }
}

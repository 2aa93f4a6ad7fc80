/**
 * The demo ERP: a small HTTP service standing for the ERP side of the integration. It receives canonical
 * orders (`POST /orders`, idempotent by `Idempotency-Key`, validated against schemas/erp-order.schema.json),
 * keeps stock per SKU and MSI source, prices, products and shipments, and emits changes toward the
 * integration's HTTP-in endpoints. Part of the product (`npm start`) and the fixture of the end-to-end tests.
 *
 * API routes (bearer token when `token` is set): POST /orders, GET /orders, GET /orders/:id, GET /stock,
 * GET /prices, GET /shipments, GET /products.
 * Control routes (open, loopback demo): POST /__erp/emit/{stock|prices|shipments|products}, POST /__erp/faults,
 * GET /__erp/faults, POST /__erp/reset, GET /__erp/requests, GET /__erp/deliveries.
 */
import crypto from 'crypto';
import http from 'http';
import { AddressInfo } from 'net';
import fs from 'fs';
import path from 'path';
import { IntegrationError } from '../../lib/errors';
import { SchemaRegistry } from '../../lib/schemas';
import { builtInCatalog, CatalogItem } from './catalog';
import { deliver, Delivery, EMIT_KINDS, EmitKind, ErpEmitter } from './emit';
import { ErpState, orderNumberOf } from './state';

export interface DemoErpOptions {
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** When set, API routes need `Authorization: Bearer <token>`. */
  token?: string;
  seed?: number;
  /** Base URL of the integration (Node-RED), e.g. http://127.0.0.1:1880; emits POST to `<url>/erp/...`. */
  integrationUrl?: string;
  /** Same as `integrationUrl` (name used by the first brief). */
  magentoIntegrationUrl?: string;
  /** Bearer token sent with emits, if the integration's endpoints want one. */
  integrationToken?: string;
  /** Products and opening stock; the launcher passes the Magento sandbox's catalogue. */
  catalog?: CatalogItem[];
  /** MSI source codes stock is kept in (default: the catalogue's, else `default`). */
  sources?: string[];
  /** Emit stock, prices, shipments and products on a timer, for a live demo. 0/undefined = off. */
  emitEverySeconds?: number;
  /** Where erp-order.schema.json lives (default: the package's schemas/). */
  schemaDir?: string;
  /** How many recorded requests and deliveries are kept (oldest dropped). */
  recordLimit?: number;
}

export interface ErpFaults {
  /** The next N `POST /orders` fail with `status`. */
  failNextOrders: number;
  status: number;
  /** Added before every `POST /orders` is answered. */
  latencyMs: number;
  /** Retry-After (seconds) sent with injected failures, if set. */
  retryAfterSeconds?: number;
}

/** One request the ERP received. No header values (the bearer token stays out), no bodies. */
export interface ErpRequestRecord {
  time: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  idempotencyKey?: string;
  orderNumber?: string;
  replayed?: boolean;
  fault?: boolean;
  /** The client hung up while the ERP was still working (fault latency): nothing was booked. */
  abandoned?: boolean;
}

export interface DemoErp {
  readonly url: string;
  readonly port: number;
  readonly state: ErpState;
  readonly requests: ErpRequestRecord[];
  /** Requests received and not answered yet (e.g. held by the latency fault), oldest first. */
  readonly openRequests: () => ErpRequestRecord[];
  readonly deliveries: Delivery[];
  readonly faults: ErpFaults;
  /** Builds and sends one kind of change toward the integration (same as `POST /__erp/emit/<kind>`). */
  emit(kind: EmitKind, body?: unknown): Promise<Delivery[]>;
  setFaults(faults: Partial<ErpFaults>): ErpFaults;
  /** Where emits go (the launcher knows Node-RED's address; a test may start its receiver later). */
  setIntegrationUrl(url: string | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY = 5 * 1024 * 1024;
const ORDER_SCHEMA = 'erp-order';

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

function noFaults(): ErpFaults {
  return { failNextOrders: 0, status: 503, latencyMs: 0 };
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `Body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `Body is not valid JSON: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function nonNegative(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name}: must be a whole number of 0 or more`);
  return n;
}

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

export async function startDemoErp(options: DemoErpOptions = {}): Promise<DemoErp> {
  const seed = options.seed ?? 1;
  let integrationUrl = options.integrationUrl ?? options.magentoIntegrationUrl;
  const recordLimit = options.recordLimit ?? 1000;
  const catalog = options.catalog ?? builtInCatalog(seed, options.sources);
  const state = new ErpState(catalog, options.sources);
  const schemas = new SchemaRegistry(options.schemaDir);
  const requests: ErpRequestRecord[] = [];
  const deliveries: Delivery[] = [];
  let emitter = new ErpEmitter(state, seed);
  let faults = noFaults();

  const remember = <T>(list: T[], item: T): void => {
    list.push(item);
    if (list.length > recordLimit) list.splice(0, list.length - recordLimit);
  };

  async function emit(kind: EmitKind, body?: unknown): Promise<Delivery[]> {
    const target = integrationUrl;
    if (!target) {
      throw new HttpError(409, 'No integration URL is configured: start the demo ERP with integrationUrl (npm start sets it to Node-RED)');
    }
    const send = (payload: unknown) => deliver(kind, target, payload, { token: options.integrationToken });
    const results: Delivery[] = [];
    if (kind === 'shipments') {
      // One message per shipment; booked only once the integration took it, so a refused shipment stays open.
      for (const { order, message } of emitter.shipments(body)) {
        const delivery = await send(message);
        if (delivery.ok) emitter.bookShipment(order, message);
        results.push(delivery);
      }
    } else {
      const payload = kind === 'stock' ? emitter.stock(body) : kind === 'prices' ? emitter.prices(body) : emitter.products(body);
      results.push(await send(payload));
    }
    for (const d of results) remember(deliveries, d);
    return results;
  }

  function setFaults(input: Partial<ErpFaults>): ErpFaults {
    const next = noFaults();
    if (input.failNextOrders !== undefined) {
      if (!Number.isInteger(input.failNextOrders) || input.failNextOrders < 0) throw new HttpError(400, 'failNextOrders: must be an integer ≥ 0');
      next.failNextOrders = input.failNextOrders;
    }
    if (input.status !== undefined) {
      if (!Number.isInteger(input.status) || input.status < 400 || input.status > 599) throw new HttpError(400, 'status: must be an HTTP error status (400-599)');
      next.status = input.status;
    }
    if (input.latencyMs !== undefined) {
      if (typeof input.latencyMs !== 'number' || input.latencyMs < 0 || input.latencyMs > 120_000) throw new HttpError(400, 'latencyMs: must be a number from 0 to 120000');
      next.latencyMs = input.latencyMs;
    }
    if (input.retryAfterSeconds !== undefined) {
      if (!Number.isInteger(input.retryAfterSeconds) || input.retryAfterSeconds < 0) throw new HttpError(400, 'retryAfterSeconds: must be an integer ≥ 0');
      next.retryAfterSeconds = input.retryAfterSeconds;
    }
    faults = next;
    return faults;
  }

  function reset(): void {
    state.load(catalog, options.sources);
    emitter = new ErpEmitter(state, seed);
    faults = noFaults();
    requests.length = 0;
    deliveries.length = 0;
  }

  /** Read at request time: the ERP starts (and answers a clear 500) even when the schema is missing. */
  function validateOrder(body: unknown) {
    const file = path.join(schemas.dir, `${ORDER_SCHEMA}.schema.json`);
    if (!fs.existsSync(file)) throw new HttpError(500, `The ERP order schema ${file} does not exist, so orders cannot be validated`);
    try {
      return schemas.validate(ORDER_SCHEMA, body);
    } catch (err) {
      throw new HttpError(500, `The ERP order schema ${ORDER_SCHEMA}.schema.json cannot be used: ${(err as Error).message}`);
    }
  }

  function authorize(req: http.IncomingMessage): void {
    if (!options.token) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameSecret(match[1].trim(), options.token)) {
      throw new HttpError(401, 'Missing or wrong bearer token (Authorization: Bearer <token>)');
    }
  }

  async function postOrder(req: http.IncomingMessage, record: ErpRequestRecord, hungUp: Promise<void>): Promise<[number, unknown, Record<string, string>?]> {
    authorize(req);
    const key = req.headers['idempotency-key'];
    const body = await readBody(req);
    if (typeof key === 'string') record.idempotencyKey = key;
    const orderNumber = orderNumberOf(body);
    if (orderNumber !== undefined) record.orderNumber = orderNumber;
    if (faults.latencyMs > 0) {
      // Like a server that checks the connection before it commits: a client gone meanwhile books nothing.
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), faults.latencyMs); }),
        hungUp.then(() => true),
      ]);
      clearTimeout(timer);
      if (gone) {
        record.abandoned = true;
        throw new HttpError(499, 'The client hung up before the demo ERP answered: nothing was booked');
      }
    }
    if (faults.failNextOrders > 0) {
      faults.failNextOrders -= 1;
      record.fault = true;
      const headers: Record<string, string> = {};
      if (faults.retryAfterSeconds !== undefined) headers['retry-after'] = String(faults.retryAfterSeconds);
      return [faults.status, { message: `The demo ERP is failing on purpose (fault injection, ${faults.failNextOrders} more to fail)` }, headers];
    }
    if (typeof key !== 'string' || key.trim() === '') {
      throw new HttpError(400, 'The Idempotency-Key header is required: the same key sent again returns the first answer and creates nothing');
    }

    // Everything below runs without awaiting, so two requests with one key cannot both create an order.
    const previous = state.answers.get(key);
    if (previous) {
      if (orderNumber !== undefined && orderNumber !== previous.order_number) {
        throw new HttpError(422, `Idempotency-Key ${key} was first used for order ${previous.order_number}; this request is for order ${orderNumber}`);
      }
      record.replayed = true;
      return [previous.status, previous.body, { 'idempotent-replayed': 'true' }];
    }
    const check = validateOrder(body);
    if (!check.valid) {
      const n = check.problems.length;
      throw new HttpError(400, `The order does not match erp-order.schema.json (${n} problem${n === 1 ? '' : 's'})`, { errors: check.problems });
    }
    if (orderNumber === undefined) throw new HttpError(400, 'order_number: is required');
    const existing = state.ordersByNumber.get(orderNumber);
    if (existing) {
      throw new HttpError(409, `Order ${orderNumber} already exists in the ERP as ${existing.erp_order_id} (received with another Idempotency-Key)`, {
        erp_order_id: existing.erp_order_id,
        order_number: orderNumber,
      });
    }
    const answer = state.createOrder(key, orderNumber, body);
    return [answer.status, answer.body];
  }

  async function route(req: http.IncomingMessage, record: ErpRequestRecord, hungUp: Promise<void>): Promise<[number, unknown, Record<string, string>?]> {
    const url = new URL(req.url ?? '/', 'http://erp.local');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const sku = url.searchParams.get('sku') ?? undefined;

    if (path === '/orders' && method === 'POST') return postOrder(req, record, hungUp);

    if (path.startsWith('/__erp/')) {
      const control = path.slice('/__erp/'.length);
      if (method === 'POST' && control.startsWith('emit/')) {
        const kind = control.slice('emit/'.length) as EmitKind;
        if (!EMIT_KINDS.includes(kind)) throw new HttpError(404, `Unknown emit kind "${kind}"; use one of ${EMIT_KINDS.join(', ')}`);
        const results = await emit(kind, await readBody(req));
        const failed = results.filter((d) => !d.ok).length;
        return [results.length > 0 && failed === results.length ? 502 : 200, { deliveries: results }];
      }
      if (control === 'faults' && method === 'POST') {
        const body = await readBody(req);
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) throw new HttpError(400, 'body: must be a JSON object ({} clears the faults)');
        return [200, setFaults((body ?? {}) as Partial<ErpFaults>)];
      }
      if (control === 'faults' && method === 'GET') return [200, faults];
      if (control === 'reset' && method === 'POST') {
        reset();
        return [200, { reset: true }];
      }
      if (control === 'requests' && method === 'GET') return [200, requests];
      if (control === 'deliveries' && method === 'GET') return [200, deliveries];
      throw new HttpError(404, `No control route ${method} ${path}`);
    }

    if (method !== 'GET') throw new HttpError(path === '/orders' || ['/stock', '/prices', '/shipments', '/products'].includes(path) ? 405 : 404, `No route ${method} ${path}`);
    if (path === '/') {
      return [200, {
        name: 'demo ERP (node-red-contrib-magento-erp sandbox)',
        routes: ['POST /orders', 'GET /orders', 'GET /orders/:id', 'GET /stock', 'GET /prices', 'GET /shipments', 'GET /products'],
        control: [...EMIT_KINDS.map((k) => `POST /__erp/emit/${k}`), 'POST /__erp/faults', 'GET /__erp/faults', 'POST /__erp/reset', 'GET /__erp/requests', 'GET /__erp/deliveries'],
        integrationUrl: integrationUrl ?? null,
      }];
    }
    authorize(req);
    if (path === '/orders') {
      const number = url.searchParams.get('order_number');
      const list = state.orderSummaries().filter((o) => number === null || o.order_number === number);
      // Optional window for big demos (tens of thousands of orders); total_count is always the full count.
      const offset = nonNegative(url.searchParams.get('offset'), 'offset') ?? 0;
      const limit = nonNegative(url.searchParams.get('limit'), 'limit');
      return [200, { items: list.slice(offset, limit === undefined ? undefined : offset + limit), total_count: list.length }];
    }
    const one = /^\/orders\/([^/]+)$/.exec(path);
    if (one) {
      const id = decodeURIComponent(one[1]);
      const order = state.orders.get(id) ?? state.ordersByNumber.get(id);
      if (!order) throw new HttpError(404, `No ERP order ${id} (give an erp_order_id or an order_number)`);
      return [200, order];
    }
    if (path === '/stock') {
      const list = state.stockList(sku);
      return [200, { items: list, total_count: list.length }];
    }
    if (path === '/prices') {
      const list = state.priceList(sku);
      return [200, { items: list, total_count: list.length }];
    }
    if (path === '/shipments') {
      const number = url.searchParams.get('order_number');
      const list = state.shipments.filter((s) => number === null || s.order_number === number);
      return [200, { items: list, total_count: list.length }];
    }
    if (path === '/products') {
      const list = [...state.products.values()].filter((p) => sku === undefined || p.sku === sku);
      return [200, { items: list, total_count: list.length }];
    }
    throw new HttpError(404, `No route GET ${path}`);
  }

  const open = new Set<ErpRequestRecord>();
  const server = http.createServer((req, res) => {
    const started = Date.now();
    const record: ErpRequestRecord = {
      time: new Date(started).toISOString(),
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0],
      status: 0,
      durationMs: 0,
    };
    open.add(record);
    const hungUp = new Promise<void>((resolve) => res.once('close', () => { if (!res.writableEnded) resolve(); }));
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      open.delete(record);
      record.status = status;
      record.durationMs = Date.now() - started;
      // Serialised before this request is recorded, so GET /__erp/requests does not list itself.
      const text = JSON.stringify(body);
      remember(requests, record);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    route(req, record, hungUp).then(
      ([status, body, headers]) => answer(status, body, headers),
      (err) => {
        if (err instanceof HttpError) return answer(err.status, { message: err.message, ...err.extra });
        if (err instanceof IntegrationError) return answer(err.status ?? 400, { message: err.message, field: err.field });
        answer(500, { message: `Demo ERP failure: ${(err as Error).message}` });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let timer: NodeJS.Timeout | undefined;
  if (options.emitEverySeconds && options.emitEverySeconds > 0) {
    let tick = 0;
    let running = false;
    timer = setInterval(() => {
      if (running || !integrationUrl) return; // a slow integration must not pile up ticks
      running = true;
      tick += 1;
      const plan: Array<[EmitKind, unknown]> = [['stock', { count: 2 }], ['prices', { count: 1 }]];
      if (state.openOrders().length > 0) plan.push(['shipments', { count: 1, partial: tick % 2 === 1 }]);
      if (tick % 5 === 0) plan.push(['products', { count: 1 }]);
      (async () => {
        for (const [kind, body] of plan) {
          try {
            await emit(kind, body);
          } catch {
            // nothing to emit this tick (no SKU, no open order): the next tick tries again
          }
        }
      })().finally(() => {
        running = false;
      });
    }, options.emitEverySeconds * 1000);
    timer.unref();
  }

  const sockets = new Set<import('net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    state,
    requests,
    deliveries,
    get faults() {
      return faults;
    },
    emit,
    setFaults,
    openRequests: () => [...open],
    setIntegrationUrl: (url) => {
      integrationUrl = url;
    },
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

export { ErpState } from './state';
export type { ErpOrder, StockRecord, PriceRecord, ShipmentRecord, ProductRecord } from './state';
export type { CatalogItem } from './catalog';
export type { Delivery, EmitKind } from './emit';

/**
 * The Magento 2.4 REST client behind every node: one per store-config node. It builds
 * `/rest/<store>/V1|async/V1|async/bulk/V1` URLs, authenticates (OAuth 1.0a, Bearer, admin token, none),
 * queues calls under the store's concurrency and rate limits, pages lists by `total_count`, turns every
 * failure into a MagentoError and reports each call (without secrets) to `onCall` listeners.
 */
import { isAscii } from 'buffer';
import http from 'http';
import https from 'https';
import axios, { AxiosInstance } from 'axios';
import { IntegrationError, ValidationError } from '../errors';
import { Redactor } from '../redact';
import { AdminTokenCache } from './admin-token';
import { MagentoError, fromHttpAnswer, toMagentoError } from './errors';
import { signRequest } from './oauth1';
import { RateLimiter } from './rate-limiter';
import { toQuery, validateCriteria, withStableSort } from './search-criteria';
import {
  AuthSettings, CallRecord, DEFAULT_INPUT_LIMITS, HttpMethod, MagentoClient, MagentoRequest, PageOptions,
  SearchCriteria, SearchResult, StoreSettings,
} from './types';
import { encodePathSegment, encodeQueryString, normalizeBaseUrl } from './url';

export { encodePathSegment } from './url';

const USER_AGENT = 'node-red-contrib-magento-erp';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE'];
const STORE_CODE = /^[A-Za-z0-9_]+$/;

/** Checks settings and names the first bad field; returns a normalised copy (defaults filled in). */
export function validateStoreSettings(input: Partial<StoreSettings> & { auth?: AuthSettings }): StoreSettings {
  const name = typeof input.name === 'string' && input.name.trim() ? input.name.trim() : 'magento';
  if (typeof input.baseUrl !== 'string' || !input.baseUrl.trim()) throw new ValidationError('baseUrl', 'is required (e.g. https://shop.example.com)');
  const baseUrl = normalizeBaseUrl(input.baseUrl);
  const storeCode = input.storeCode === undefined || input.storeCode === '' ? 'default' : String(input.storeCode).trim();
  if (!STORE_CODE.test(storeCode)) throw new ValidationError('storeCode', `"${storeCode}" is not a store code (letters, digits and _ only; "default", a store view code or "all")`);
  const num = (field: string, value: unknown, fallback: number, min: number): number => {
    if (value === undefined || value === null || value === '') return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new ValidationError(field, `must be a number of at least ${min} (got "${String(value)}")`);
    return n;
  };
  const timeoutMs = num('timeoutMs', input.timeoutMs, 30000, 1);
  const maxConcurrency = Math.floor(num('maxConcurrency', input.maxConcurrency, 4, 1));
  const requestsPerSecond = num('requestsPerSecond', input.requestsPerSecond, 0, 0);
  const limitsIn = input.limits ?? DEFAULT_INPUT_LIMITS;
  const limits = {
    maxItemsPerRequest: Math.floor(num('limits.maxItemsPerRequest', limitsIn.maxItemsPerRequest, DEFAULT_INPUT_LIMITS.maxItemsPerRequest, 1)),
    maxPageSize: Math.floor(num('limits.maxPageSize', limitsIn.maxPageSize, DEFAULT_INPUT_LIMITS.maxPageSize, 1)),
    maxBulkItems: Math.floor(num('limits.maxBulkItems', limitsIn.maxBulkItems, DEFAULT_INPUT_LIMITS.maxBulkItems, 1)),
  };
  const auth = validateAuth(input.auth);
  return {
    name, baseUrl, storeCode, auth, timeoutMs, maxConcurrency, requestsPerSecond,
    rejectUnauthorized: input.rejectUnauthorized !== false, limits,
  };
}

function validateAuth(auth: AuthSettings | undefined): AuthSettings {
  if (!auth) return { type: 'none' };
  const need = (field: string, v: unknown): string => {
    if (typeof v !== 'string' || v === '') throw new ValidationError(`credentials.${field}`, `is required for auth type "${auth.type}"`);
    return v;
  };
  switch (auth.type) {
    case 'oauth1':
      return {
        type: 'oauth1', consumerKey: need('consumerKey', auth.consumerKey), consumerSecret: need('consumerSecret', auth.consumerSecret),
        accessToken: need('accessToken', auth.accessToken), accessTokenSecret: need('accessTokenSecret', auth.accessTokenSecret),
      };
    case 'bearer':
      return { type: 'bearer', token: need('token', auth.token) };
    case 'admin':
      return { type: 'admin', username: need('username', auth.username), password: need('password', auth.password) };
    case 'none':
      return { type: 'none' };
    default:
      throw new ValidationError('authType', `"${String((auth as { type?: unknown }).type)}" is not one of oauth1, bearer, admin, none`);
  }
}

/** The secret values of an auth setting (to scrub from anything we log or report). */
export function secretsOf(auth: AuthSettings): string[] {
  switch (auth.type) {
    case 'oauth1': return [auth.consumerSecret, auth.accessToken, auth.accessTokenSecret];
    case 'bearer': return [auth.token];
    case 'admin': return [auth.password];
    default: return [];
  }
}

/** `/rest/<code>/V1/...`, `/rest/<code>/async/V1/...` or `/rest/<code>/async/bulk/V1/...` (path part only). */
export function routeOf(settings: Pick<StoreSettings, 'baseUrl' | 'storeCode'>, req: Pick<MagentoRequest, 'path' | 'storeCode' | 'mode'>): string {
  const code = req.storeCode ?? settings.storeCode;
  if (!STORE_CODE.test(code)) throw new ValidationError('storeCode', `"${code}" is not a store code`);
  const prefix = req.mode === 'async' ? '/async/V1' : req.mode === 'bulk' ? '/async/bulk/V1' : '/V1';
  const basePath = new URL(settings.baseUrl).pathname.replace(/\/+$/, '');
  return `${basePath}/rest/${code}${prefix}${req.path}`;
}

interface Answer {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

class RestClient implements MagentoClient {
  readonly settings: Readonly<StoreSettings>;
  private readonly origin: string;
  private readonly http: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly limiter: RateLimiter;
  private readonly redactor: Redactor;
  private readonly listeners = new Set<(record: CallRecord) => void>();
  private readonly adminTokens?: AdminTokenCache;
  private closed = false;

  constructor(settings: StoreSettings) {
    this.settings = Object.freeze(validateStoreSettings(settings));
    Object.defineProperty(this, 'settings', { enumerable: false });
    this.origin = new URL(this.settings.baseUrl).origin;
    this.redactor = new Redactor(secretsOf(this.settings.auth));
    const agentOptions = { keepAlive: true, maxSockets: this.settings.maxConcurrency, maxFreeSockets: this.settings.maxConcurrency };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent({ ...agentOptions, rejectUnauthorized: this.settings.rejectUnauthorized });
    this.http = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Every status comes back as an answer: we build the error ourselves, without the request config.
      validateStatus: () => true,
      // Bytes, decoded here (textOf): Magento's JSON is ASCII (non-ASCII characters escaped as \uXXXX), which
      // reads as Latin-1 at copy speed; a UTF-8 decode of a 1 MB page of orders costs milliseconds.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
      decompress: true,
    });
    this.limiter = new RateLimiter({ maxConcurrency: this.settings.maxConcurrency, requestsPerSecond: this.settings.requestsPerSecond });
    if (this.settings.auth.type === 'admin') {
      const { username, password } = this.settings.auth;
      this.adminTokens = new AdminTokenCache(async () => {
        const token = await this.send<unknown>({
          method: 'POST', path: '/integration/admin/token', body: { username, password }, operation: 'integration.admin-token',
        }, undefined, true);
        if (typeof token !== 'string' || !token) {
          throw new MagentoError('auth', `POST /V1/integration/admin/token (store "${this.settings.name}") answered without a token`, { target: this.settings.name });
        }
        this.redactor.addSecret(token);
        return token;
      });
    }
  }

  /** What a debug node or a log shows of the client: no credentials. */
  toJSON(): Record<string, unknown> {
    return { name: this.settings.name, baseUrl: this.settings.baseUrl, storeCode: this.settings.storeCode, authType: this.settings.auth.type, closed: this.closed };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MagentoClient ${JSON.stringify(this.toJSON())}`;
  }

  onCall(listener: (record: CallRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.limiter.close();
    this.adminTokens?.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.listeners.clear();
  }

  async request<T = unknown>(req: MagentoRequest): Promise<T> {
    this.checkRequest(req);
    if (this.adminTokens) {
      const token = await this.adminTokens.get();
      try {
        return await this.send<T>(req, token);
      } catch (err) {
        // An admin token expires (4 h by default) or is revoked: fetch a new one once, then give up.
        if (err instanceof MagentoError && err.status === 401) {
          this.adminTokens.invalidate(token);
          return this.send<T>(req, await this.adminTokens.get());
        }
        throw err;
      }
    }
    return this.send<T>(req);
  }

  async search<T = unknown>(path: string, criteria: SearchCriteria, options: PageOptions = {}): Promise<SearchResult<T>> {
    const c = options.stableSortKey ? withStableSort(criteria, options.stableSortKey) : criteria;
    validateCriteria(c);
    if (c.pageSize !== undefined && c.pageSize > this.settings.limits.maxPageSize) {
      throw new ValidationError('searchCriteria.pageSize', `${c.pageSize} is above the store's maximum page size ${this.settings.limits.maxPageSize}`);
    }
    const query: Record<string, string | number | boolean> = { ...toQuery(c) };
    if (options.fields) query.fields = options.fields;
    const answer = await this.request<SearchResult<T>>({ method: 'GET', path, query, operation: options.operation, signal: options.signal });
    if (!answer || typeof answer !== 'object' || !Array.isArray((answer as SearchResult<T>).items)) {
      throw new MagentoError('permanent', `GET ${path} (store "${this.settings.name}") did not answer a list ({items, total_count})`, {
        target: this.settings.name, operation: options.operation, reason: 'not-json',
      });
    }
    return answer;
  }

  pages<T = unknown>(path: string, criteria: SearchCriteria, options: PageOptions = {}): AsyncIterable<SearchResult<T> & { page: number; pages: number }> {
    const pageSize = Math.min(criteria.pageSize ?? this.settings.limits.maxPageSize, this.settings.limits.maxPageSize);
    const first = criteria.currentPage ?? 1;
    let fields = options.fields;
    // Paging stops by total_count, so a trimmed answer must keep it.
    if (fields && !/(^|,)\s*total_count\s*(,|$)/.test(fields)) fields += ',total_count';
    const pageOptions: PageOptions = { ...options, fields };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const client = this;
    return {
      async *[Symbol.asyncIterator]() {
        let page = first;
        for (;;) {
          const result = await client.search<T>(path, { ...criteria, pageSize, currentPage: page }, pageOptions);
          const total = Number(result.total_count) || 0;
          // Magento answers a page past the end with the last page again: only total_count tells the end.
          const pages = Math.max(1, Math.ceil(total / pageSize));
          yield { ...result, page, pages };
          if (page >= pages) return;
          page++;
        }
      },
    };
  }

  private checkRequest(req: MagentoRequest): void {
    if (this.closed) throw closedError(this.settings.name);
    if (!req || !METHODS.includes(req.method)) throw new ValidationError('method', `must be one of ${METHODS.join(', ')}`);
    if (typeof req.path !== 'string' || !req.path.startsWith('/')) throw new ValidationError('path', 'must start with "/" (the route after /V1)');
    if (/[?#]/.test(req.path)) throw new ValidationError('path', 'must not hold "?" or "#": pass query parameters in `query` and encode path parameters with encodePathSegment');
    if (/\s/.test(req.path)) throw new ValidationError('path', 'holds a space: encode path parameters with encodePathSegment');
  }

  private authHeader(method: string, url: string, adminToken?: string): string | undefined {
    const auth = this.settings.auth;
    switch (auth.type) {
      case 'oauth1':
        return signRequest({ method, url, credentials: auth }).authorization;
      case 'bearer':
        return `Bearer ${auth.token}`;
      case 'admin':
        return adminToken ? `Bearer ${adminToken}` : undefined;
      default:
        return undefined;
    }
  }

  /** One HTTP exchange through the queue. */
  private async send<T>(req: MagentoRequest, adminToken?: string, isTokenRequest = false): Promise<T> {
    if (this.closed) throw closedError(this.settings.name);
    const route = routeOf(this.settings, req);
    const qs = encodeQueryString(req.query);
    const url = this.origin + route + (qs ? '?' + qs : '');
    const timeoutMs = req.timeoutMs ?? this.settings.timeoutMs;
    const ctx = {
      target: this.settings.name, operation: req.operation, authType: this.settings.auth.type, redactor: this.redactor,
      adminTokenRequest: isTokenRequest, method: req.method, route, timeoutMs,
    };
    return this.limiter.schedule(async () => {
      const started = Date.now();
      const record: CallRecord = { time: new Date(started).toISOString(), store: this.settings.name, method: req.method, route, durationMs: 0 };
      if (req.operation) record.operation = req.operation;
      if (req.entity) {
        record.entityType = req.entity.type;
        if (req.entity.id !== undefined) record.entityId = String(req.entity.id);
      }
      if (req.idempotencyKey) record.idempotencyKey = req.idempotencyKey;
      try {
        const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
        if (req.body !== undefined) headers['Content-Type'] = 'application/json';
        // Signed inside the slot, so the OAuth timestamp is fresh however long the call queued.
        const authorization = isTokenRequest ? undefined : this.authHeader(req.method, url, adminToken);
        if (authorization) headers.Authorization = authorization;
        let answer: Answer;
        try {
          const res = await this.http.request({
            method: req.method, url, headers, timeout: timeoutMs, signal: req.signal,
            data: req.body === undefined ? undefined : JSON.stringify(req.body),
          });
          answer = { status: res.status, data: parseBody(textOf(res.data)), headers: { ...(res.headers as Record<string, unknown>) } };
        } catch (err) {
          throw toMagentoError(err, ctx);
        }
        record.status = answer.status;
        if (answer.status >= 300 && answer.status < 400) {
          const location = typeof answer.headers.location === 'string' ? answer.headers.location : '';
          throw new MagentoError('permanent', `${req.method} ${route} (store "${this.settings.name}") was redirected (${answer.status}${location ? ' to ' + this.redactor.text(location.split('?')[0]) : ''}): set the store's base URL to the address it redirects to (https, www or not)`, {
            status: answer.status, target: this.settings.name, operation: req.operation,
          });
        }
        if (answer.status >= 400) throw fromHttpAnswer(answer, ctx);
        if (typeof answer.data === 'string' && answer.data !== '' && looksLikeHtml(answer.data)) {
          throw new MagentoError('permanent', `${req.method} ${route} (store "${this.settings.name}") answered ${answer.status} with an HTML page, not JSON: is the base URL a Magento store?`, {
            status: answer.status, target: this.settings.name, operation: req.operation, reason: 'not-json',
          });
        }
        return answer.data as T;
      } catch (err) {
        const typed = err instanceof IntegrationError ? err : toMagentoError(err, ctx);
        record.error = typed.message;
        record.errorClass = typed.errorClass;
        throw typed;
      } finally {
        record.durationMs = Date.now() - started;
        this.emit(record);
      }
    }, req.signal).catch((err: unknown) => {
      throw err instanceof IntegrationError ? err : toMagentoError(err, ctx);
    });
  }

  private emit(record: CallRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // An audit listener must never break the call it reports.
      }
    }
  }
}

/** The body as text: Latin-1 when every byte is ASCII (the same text, decoded at copy speed), else UTF-8 without a BOM. */
export function textOf(data: unknown): unknown {
  if (!Buffer.isBuffer(data)) return data;
  if (isAscii(data)) return data.toString('latin1');
  const text = data.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data.trim() === '') return null;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype|html|head|body)/i.test(text);
}

function closedError(name: string): MagentoError {
  return new MagentoError('transient', `The Magento client of store "${name}" is closed (flow redeployed or Node-RED stopping)`, { target: name, reason: 'closed', code: 'ECLOSED' });
}

/** A client for one store. `settings` are validated (a ValidationError names the bad field). */
export function createMagentoClient(settings: StoreSettings): MagentoClient {
  return new RestClient(settings);
}

/**
 * The ERP HTTP client: one JSON call per request over Node's own http/https with a keep-alive agent.
 * Node-RED's core `http request` node (got) spends ~890 us of CPU per POST; a bare `http.request` on a
 * kept-alive socket ~155 us, which is what lets the order export keep up with Magento reads.
 *
 * What the ERP answered is judged by `classifyErpAnswer` (pure), with the same status → class table as
 * the whole pack (lib/errors.ts `classifyStatus`). Errors name method, path, status and the idempotency
 * key; never a header, so never the token.
 */
import http from 'http';
import https from 'https';
import { classifyStatus, IntegrationError, parseRetryAfter, ValidationError } from '../errors';
import { Redactor } from '../redact';

export type ErpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const ERP_METHODS: readonly ErpMethod[] = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];

export interface ErpClientOptions {
  /** Base URL, e.g. https://erp.example.com/api (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /**
   * One call, from the moment it has a connection (a new or a reused one) to the last byte of the answer
   * (default 30 000). Waiting for a free connection does not count: the ERP has not seen the call yet.
   */
  timeoutMs?: number;
  /** Sockets kept open to the ERP at most (default 100); further calls wait for one. */
  maxSockets?: number;
  /**
   * How long a call waits for a free connection at most (default 10 × `timeoutMs`); then it fails as
   * transient without having been sent.
   */
  queueTimeoutMs?: number;
  /** Header carrying the idempotency key (default `Idempotency-Key`; '' = none). */
  keyHeader?: string;
  /** Non-2xx statuses that are answers rather than failures (e.g. 409 "already there"). */
  passStatuses?: readonly number[];
  /** Name of the target in failures and the audit log (default `erp`). */
  target?: string;
}

export interface ErpRequest {
  method?: ErpMethod;
  /** Path below the base URL, starting with `/` (a query string is allowed). */
  path: string;
  /** Serialised as JSON once; a string or Buffer is sent as it is. Undefined = no body. */
  body?: unknown;
  idempotencyKey?: string;
  /** For failures and the audit log (default `erp.<first path segment>.<verb>`, e.g. erp.orders.create). */
  operation?: string;
}

export interface ErpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON; the text when the answer is not JSON ('' when empty). */
  body: unknown;
}

/**
 * What the ERP did with a call: an answer, or no answer (`error` holds the network error or timeout;
 * `notSent` when the call never left the queue for a connection).
 */
export interface ErpExchange {
  method: ErpMethod;
  path: string;
  idempotencyKey?: string;
  operation: string;
  answer?: ErpAnswer;
  error?: { code?: string; message: string; notSent?: boolean };
}

export type ErpVerdict = { ok: true } | { ok: false; error: IntegrationError };

/** One audit row per call (lib/audit's CallRecord shape): no header, body or token. */
export interface ErpCallRecord {
  time: string;
  store: string;
  method: ErpMethod;
  route: string;
  operation: string;
  idempotencyKey?: string;
  status?: number;
  durationMs: number;
  error?: string;
  errorClass?: string;
}

export interface ErpResult {
  ok: boolean;
  answer?: ErpAnswer;
  /** Set when `ok` is false. */
  error?: IntegrationError;
  durationMs: number;
}

export interface ErpClient {
  /** Sends one call and judges it; never rejects (a bad request is a validation failure). */
  send(request: ErpRequest): Promise<ErpResult>;
  onCall(listener: (record: ErpCallRecord) => void): () => void;
  /** Calls on the way (sent, not answered yet). */
  readonly inFlight: number;
  /**
   * Waits up to `waitMs` for calls on the way, then closes every socket. Calls still waiting for a connection
   * then fail as not sent (they must not go out once the client is closed), as do calls made after it.
   */
  close(waitMs?: number): Promise<void>;
}

/** `code` of a call that waited longer than `queueTimeoutMs` for a connection and was never sent. */
export const ERP_QUEUE_TIMEOUT = 'ERR_ERP_QUEUE_TIMEOUT';
/** `code` of a call still waiting for a connection when the client closed: never sent. */
export const ERP_CLIENT_CLOSED = 'ERR_ERP_CLIENT_CLOSED';
/** Default bound on the wait for a connection, in multiples of the call's timeout. */
export const QUEUE_TIMEOUT_FACTOR = 10;

const VERBS: Record<ErpMethod, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', GET: 'get', DELETE: 'delete' };
const MAX_TEXT_IN_MESSAGE = 200;

/** `erp.orders.create` for POST /orders, `erp.orders.get` for GET /orders/12?x=1. */
export function erpOperationOf(method: ErpMethod, path: string): string {
  const first = path.split('?')[0].split('/').find((s) => s !== '') ?? 'root';
  return `erp.${first}.${VERBS[method]}`;
}

/** Parses a base URL into what http.request needs; names `field` when it is not an http(s) URL. */
export function parseErpBaseUrl(baseUrl: string, field = 'url'): URL {
  let u: URL;
  try {
    u = new URL(String(baseUrl).trim());
  } catch {
    throw new IntegrationError('validation', `${field}: "${baseUrl}" is not an absolute URL (e.g. https://erp.example.com/api)`, { field });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new IntegrationError('validation', `${field}: must start with http:// or https:// (got ${u.protocol})`, { field });
  }
  if (u.search || u.hash) throw new IntegrationError('validation', `${field}: must not hold a query string or a fragment`, { field });
  if (u.username || u.password) throw new IntegrationError('validation', `${field}: must not hold a user or password (put the token in the credentials)`, { field });
  return u;
}

/** A short, secret-free text of what the ERP said: its `message` (or `error`), else the start of its text. */
function answerText(body: unknown): string | undefined {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    for (const k of ['message', 'error', 'detail', 'title']) if (typeof b[k] === 'string' && b[k] !== '') return b[k] as string;
    return undefined;
  }
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, MAX_TEXT_IN_MESSAGE);
  return undefined;
}

/**
 * Judges one exchange: 2xx and `passStatuses` are answers; otherwise the class of the status
 * (408/429/5xx transient, 401/403 auth, 404 not-found, 400/422 validation, the rest permanent), and no
 * answer at all (timeout, refused, reset, never sent) is transient. Retry-After becomes `retryAfterMs`, an answer's
 * `errors[]` becomes `details.problems`. `redactor` scrubs what the ERP echoed (it may echo the token).
 */
export function classifyErpAnswer(
  exchange: ErpExchange,
  options: { passStatuses?: readonly number[]; target?: string; redactor?: Redactor; now?: number } = {},
): ErpVerdict {
  const target = options.target ?? 'erp';
  const scrub = (s: string) => (options.redactor ? options.redactor.text(s) : s);
  const call = `${exchange.method} ${exchange.path.split('?')[0]}${exchange.idempotencyKey ? ` (${exchange.idempotencyKey})` : ''}`;
  const answer = exchange.answer;
  if (!answer) {
    const e = exchange.error ?? { message: 'no answer' };
    const what = e.notSent ? `not sent to the ERP (${e.message})` : `no answer from the ERP (${e.message})`;
    return {
      ok: false,
      error: new IntegrationError('transient', scrub(`${call}: ${what}`), {
        code: e.code, target, operation: exchange.operation,
      }),
    };
  }
  const status = answer.status;
  if ((status >= 200 && status < 300) || options.passStatuses?.includes(status)) return { ok: true };
  const said = answerText(answer.body);
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], options.now);
  const body = answer.body as { errors?: unknown } | undefined;
  const problems = body && typeof body === 'object' && Array.isArray(body.errors) ? body.errors : undefined;
  return {
    ok: false,
    error: new IntegrationError(classifyStatus(status), scrub(`${call}: the ERP answered ${status}${said ? ` (${said})` : ''}`), {
      status,
      retryAfterMs,
      target,
      operation: exchange.operation,
      details: problems ? { problems: options.redactor ? options.redactor.value(problems) : problems } : undefined,
    }),
  };
}

/** The body as sent: a Buffer or a string as it is, anything else as JSON (throws when it cannot be). */
function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (text === undefined) throw new Error(`a ${typeof body} has no JSON form`);
  return Buffer.from(text, 'utf8');
}

/** Reads the answer, parsing JSON when it looks like JSON; the text otherwise. */
function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return '';
  const c = text.charCodeAt(0);
  const looksJson = c === 123 /* { */ || c === 91 /* [ */ || (contentType !== undefined && contentType.includes('json'));
  if (!looksJson) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

class NoAnswer extends Error {
  constructor(message: string, readonly code?: string, readonly reused = false, readonly notSent = false) {
    super(message);
  }
}

export function createErpClient(options: ErpClientOptions): ErpClient {
  const base = parseErpBaseUrl(options.baseUrl);
  const secure = base.protocol === 'https:';
  const transport = secure ? https : http;
  const basePath = base.pathname.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxSockets = options.maxSockets ?? 100;
  const queueTimeoutMs = options.queueTimeoutMs ?? QUEUE_TIMEOUT_FACTOR * timeoutMs;
  const busy = maxSockets === 1 ? 'the one connection to the ERP' : `all ${maxSockets} connections to the ERP`;
  const target = options.target ?? 'erp';
  const keyHeader = options.keyHeader === undefined ? 'Idempotency-Key' : options.keyHeader;
  const passStatuses = options.passStatuses ?? [];
  const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const redactor = new Redactor(options.token ? [options.token] : []);
  const listeners = new Set<(record: ErpCallRecord) => void>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;
  /** Calls waiting in the agent's queue for a connection: how each gives up. */
  const waiting = new Set<(err: NoAnswer) => void>();
  const fixedHeaders: Record<string, string> = { accept: 'application/json' };
  if (options.token) fixedHeaders.authorization = `Bearer ${options.token}`;

  function once(method: ErpMethod, path: string, payload: Buffer | undefined, key: string | undefined): Promise<ErpAnswer> {
    const headers: Record<string, string | number> = { ...fixedHeaders };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (keyHeader && key !== undefined) headers[keyHeader] = key;
    if (closed) return Promise.reject(new NoAnswer('the ERP client is closed (node stopped or redeployed)', ERP_CLIENT_CLOSED, false, true));
    return new Promise<ErpAnswer>((resolve, reject) => {
      let settled = false;
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      const req = transport.request({
        protocol: base.protocol, hostname: base.hostname, port: base.port || undefined,
        method, path: basePath + path, headers, agent,
      }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseBody(text, res.headers['content-type']) });
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(new NoAnswer(`the answer broke off: ${err.message}`, err.code ?? 'ECONNRESET')));
      });
      const fail = (err: NoAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      // Until the agent hands the call a connection it waits in the agent's queue (all `maxSockets` busy):
      // the ERP has not seen it, so that wait has its own, longer bound and a failure that says so.
      // Destroying a queued request is clean: the agent hands the connection it gets on to the next call.
      const giveUpWaiting = (err: NoAnswer): void => {
        waiting.delete(giveUpWaiting);
        fail(err);
        req.destroy();
      };
      waiting.add(giveUpWaiting);
      timer = setTimeout(() => {
        giveUpWaiting(new NoAnswer(`${busy} stayed busy for ${queueTimeoutMs} ms, the longest a call waits for one`, ERP_QUEUE_TIMEOUT, false, true));
      }, queueTimeoutMs);
      // The timeout counts from here: 'socket' fires for a new connection (connecting counts) and for a
      // kept-alive one the agent reuses.
      req.once('socket', () => {
        waiting.delete(giveUpWaiting);
        clearTimeout(timer);
        if (settled) return;
        timer = setTimeout(() => {
          fail(new NoAnswer(`no complete answer within ${timeoutMs} ms`, 'ETIMEDOUT'));
          req.destroy();
        }, timeoutMs);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(new NoAnswer(err.message, err.code, req.reusedSocket && !answered));
      });
      req.end(payload);
    });
  }

  async function call(request: ErpRequest, method: ErpMethod, payload: Buffer | undefined): Promise<ErpAnswer> {
    try {
      return await once(method, request.path, payload, request.idempotencyKey);
    } catch (err) {
      // A kept-alive socket the ERP closed just as we reused it: the call never reached it. Node's docs
      // advise one retry; safe here as the method is idempotent or the call carries its idempotency key.
      const e = err as NoAnswer;
      const repeatable = method !== 'POST' && method !== 'PATCH' || (keyHeader !== '' && request.idempotencyKey !== undefined);
      if (e instanceof NoAnswer && e.reused && e.code === 'ECONNRESET' && repeatable) {
        return once(method, request.path, payload, request.idempotencyKey);
      }
      throw err;
    }
  }

  function audit(exchange: ErpExchange, result: ErpResult, started: number): void {
    if (listeners.size === 0) return;
    const record: ErpCallRecord = {
      time: new Date(started).toISOString(), store: target, method: exchange.method, route: basePath + exchange.path.split('?')[0],
      operation: exchange.operation, durationMs: result.durationMs,
    };
    if (exchange.idempotencyKey !== undefined) record.idempotencyKey = exchange.idempotencyKey;
    if (result.answer) record.status = result.answer.status;
    if (result.error) {
      record.error = result.error.message;
      record.errorClass = result.error.errorClass;
    }
    for (const listener of listeners) {
      try {
        listener(record);
      } catch {
        // An audit listener never breaks the call it describes.
      }
    }
  }

  async function send(request: ErpRequest): Promise<ErpResult> {
    const method = request.method ?? 'POST';
    const operation = request.operation ?? erpOperationOf(method, request.path);
    const exchange: ErpExchange = { method, path: request.path, idempotencyKey: request.idempotencyKey, operation };
    let payload: Buffer | undefined;
    try {
      payload = bodyBytes(request.body);
    } catch (err) {
      // Nothing was sent: a body that cannot be JSON (a cycle, a BigInt) is the message's fault, not the ERP's.
      const error = new ValidationError('body', `cannot be sent as JSON (${(err as Error).message})`, { target, operation });
      return { ok: false, error, durationMs: 0 };
    }
    const started = Date.now();
    const t0 = performance.now();
    try {
      exchange.answer = await call(request, method, payload);
    } catch (err) {
      const e = err as NoAnswer;
      exchange.error = { code: e.code, message: e.message };
      if (e.notSent) exchange.error.notSent = true;
    }
    const verdict = classifyErpAnswer(exchange, { passStatuses, target, redactor });
    const result: ErpResult = { ok: verdict.ok, answer: exchange.answer, durationMs: performance.now() - t0 };
    if (!verdict.ok) result.error = verdict.error;
    audit(exchange, result, started);
    return result;
  }

  return {
    send(request) {
      const p = send(request);
      pending.add(p);
      void p.finally(() => pending.delete(p));
      return p;
    },
    onCall(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    get inFlight() {
      return pending.size;
    },
    async close(waitMs = 0) {
      if (pending.size > 0 && waitMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...pending]),
          new Promise((resolve) => { timer = setTimeout(resolve, waitMs); }),
        ]);
        clearTimeout(timer);
      }
      // Before the sockets go: a queued call would otherwise get the connection a finished call frees.
      closed = true;
      for (const giveUp of [...waiting]) giveUp(new NoAnswer('the ERP client closed before a connection was free (node stopped or redeployed)', ERP_CLIENT_CLOSED, false, true));
      listeners.clear();
      agent.destroy();
    },
  };
}

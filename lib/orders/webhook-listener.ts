/**
 * Webhook endpoints on a port of their own: a plain Node HTTP server per host and port, shared by every
 * endpoint (path) opened on it, outside Node-RED's Express stack.
 *
 * Node-RED's HTTP server runs its editor's and the http nodes' middleware for every request (body parsers,
 * CORS, admin routes, httpNodeMiddleware); a webhook endpoint needs none of it — it reads its own raw body and
 * is authenticated by its signature — and on its own port it can be exposed to the senders without exposing
 * the editor. Requests to a path no endpoint serves get 404, other methods than POST 405, both as JSON.
 *
 *   const route = await webhookListeners.open({ port: 8081 }, '/magento/orders', (req, res) => ...);
 *   ...
 *   await route.close(); // the server closes with its last route (keep-alive connections included)
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'http';
import https from 'https';
import { ValidationError } from '../errors';

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** HTTPS: the server's certificate chain and private key (PEM), as Node-RED's TLS configuration node holds them. */
export interface ListenTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  passphrase?: string;
  /** Which configuration this is (the tls-config node's id): endpoints share a port only under the same one. */
  id: string;
}

export interface ListenAddress {
  /** Interface to listen on; empty: every interface (Node's default). */
  host?: string;
  port: number;
  /** HTTPS with this certificate; absent: plain HTTP. */
  tls?: ListenTls;
}

export interface OpenWebhookRoute {
  /** Where the server listens, e.g. `0.0.0.0:8081` or `127.0.0.1:8081`. */
  readonly address: string;
  /** Removes the route; the server closes (and drops its idle connections) when it was the last one. */
  close(): Promise<void>;
}

/** A path served by another endpoint on the same port, or a port the server cannot listen on. */
export class WebhookListenError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'WebhookListenError';
  }
}

/** Slow senders are cut off: headers within 20 s, the whole request within 60 s. */
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** How long a closing server lets requests in progress finish before it cuts their connections. */
const CLOSE_GRACE_MS = 2_000;

interface Listener {
  server: Server;
  routes: Map<string, WebhookHandler>;
  /** Settles once the server listens (or failed to). */
  listening: Promise<void>;
  address: string;
  /** From now on: new requests get 503, answers not yet written close their connection. */
  stopAccepting(): void;
  /** The TLS configuration it serves under (undefined: plain HTTP). */
  tlsId?: string;
}

/** A path without doubled or trailing slashes, as routes are kept. */
export function normalizePath(p: string): string {
  return p.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
}

/** The request's path (query left out), normalised. */
export function requestPath(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return normalizePath(q < 0 ? u : u.slice(0, q));
}

/**
 * Answers with a small JSON body straight on the response (Express's res.json would also compute an ETag
 * and parse the content type for every request, which a webhook sender never uses).
 */
export function answerJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A host name, an IPv4 address or an IPv6 address (without brackets). */
const HOST = /^[A-Za-z0-9.:_-]+$/;

/** The port (1–65535) and interface (empty: every interface) to listen on; a ValidationError names the field at fault. */
export function checkListenAddress(port: unknown, host?: unknown): { port: number; host?: string } {
  const raw = port === undefined || port === null ? '' : String(port).trim();
  const n = Number(raw);
  if (raw === '' || !Number.isInteger(n) || n < 1 || n > 65535) throw new ValidationError('port', `must be a whole number from 1 to 65535 (got ${raw === '' ? 'nothing' : raw})`);
  const h = host === undefined || host === null ? '' : String(host).trim();
  if (h && !HOST.test(h)) throw new ValidationError('host', `"${h}" is not a host name or IP address`);
  return { port: n, host: h || undefined };
}

/** How a listening address is shown: `host:port`, `0.0.0.0` for every interface. */
export function shownAddress(where: Pick<ListenAddress, 'host' | 'port'>): string {
  return `${where.host || '0.0.0.0'}:${where.port}`;
}

function keyOf(where: ListenAddress): string {
  return `${where.host ?? ''}|${where.port}`;
}

function listenMessage(err: NodeJS.ErrnoException, address: string): string {
  if (err.code === 'EADDRINUSE') return `${address} is in use by another program or server`;
  if (err.code === 'EACCES') return `no permission to listen on ${address} (ports below 1024 need privileges)`;
  if (err.code === 'EADDRNOTAVAIL') return `${address}: this machine has no such address`;
  return `cannot listen on ${address}: ${err.message}`;
}

export class WebhookListeners {
  private readonly listeners = new Map<string, Listener>();
  /** Servers still closing, by key: a new listener on the same address waits for the port to be free. */
  private readonly closing = new Map<string, Promise<void>>();

  async open(where: ListenAddress, path: string, handler: WebhookHandler): Promise<OpenWebhookRoute> {
    checkListenAddress(where.port, where.host);
    const key = keyOf(where);
    const route = normalizePath(path);
    await this.closing.get(key);
    let listener = this.listeners.get(key);
    if (!listener) {
      // Throws (nothing registered) when the certificate or key cannot be used.
      listener = this.start(where);
      this.listeners.set(key, listener);
    }
    if (listener.tlsId !== where.tls?.id) {
      throw new WebhookListenError(`${listener.address} already serves ${listener.tlsId === undefined ? 'plain HTTP' : 'HTTPS under another TLS configuration'}: endpoints share a port only with the same TLS setting`, 'ETLSMISMATCH');
    }
    if (listener.routes.has(route)) throw new WebhookListenError(`${route} on ${listener.address} is served by another webhook-in node already`, 'EROUTEINUSE');
    listener.routes.set(route, handler);
    try {
      await listener.listening;
    } catch (err) {
      listener.routes.delete(route);
      throw err;
    }
    const owner = listener;
    let closed = false;
    return {
      address: owner.address,
      close: async () => {
        if (closed) return;
        closed = true;
        if (owner.routes.get(route) === handler) owner.routes.delete(route);
        if (owner.routes.size === 0 && this.listeners.get(key) === owner) await this.stop(key, owner);
      },
    };
  }

  private start(where: ListenAddress): Listener {
    const routes = new Map<string, WebhookHandler>();
    const address = shownAddress(where);
    const inFlight = new Set<ServerResponse>();
    let closing = false;
    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      if (closing) {
        // A keep-alive connection's next request after the last route went (a redeploy): come back shortly.
        res.shouldKeepAlive = false;
        req.resume();
        answerJson(res, 503, { error: 'unavailable', message: 'The endpoint is restarting; retry shortly' }, { 'Retry-After': '5' });
        return;
      }
      // The request line's path as sent, when it needs no clean-up (no query, no double or trailing slash).
      const handler = routes.get(req.url ?? '/') ?? routes.get(requestPath(req.url));
      if (!handler) {
        req.resume();
        answerJson(res, 404, { error: 'not-found', message: `No webhook endpoint at ${requestPath(req.url)}` });
        return;
      }
      if (req.method !== 'POST') {
        req.resume();
        answerJson(res, 405, { error: 'method-not-allowed', message: 'Webhook endpoints take POST' }, { Allow: 'POST' });
        return;
      }
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
      handler(req, res);
    };
    let server: Server;
    try {
      server = where.tls
        ? https.createServer({ cert: where.tls.cert, key: where.tls.key, ca: where.tls.ca, passphrase: where.tls.passphrase }, serve)
        : http.createServer(serve);
    } catch (err) {
      // A key that does not match the certificate, a wrong passphrase, text that is not PEM (OpenSSL's
      // reason names none of the key's content).
      throw new WebhookListenError(`the TLS certificate or key cannot be used (${(err as Error).message})`, 'ETLS');
    }
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    const listening = new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        if (this.listeners.get(keyOf(where))?.server === server) this.listeners.delete(keyOf(where));
        reject(new WebhookListenError(listenMessage(err, address), err.code));
      };
      server.once('error', onError);
      server.listen(where.port, where.host || undefined, () => {
        server.removeListener('error', onError);
        // A listening server's own errors (accept failing for want of file descriptors) must not take the
        // Node-RED process down as an unhandled 'error' event; its connections report theirs themselves.
        server.on('error', () => undefined);
        resolve();
      });
    });
    // Every route waiting on it sees the failure; nobody is left with an unhandled rejection.
    listening.catch(() => undefined);
    return {
      server, routes, listening, address, tlsId: where.tls?.id,
      stopAccepting: () => {
        closing = true;
        // Answers still to be written end their connection instead of keeping it alive.
        for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      },
    };
  }

  private stop(key: string, listener: Listener): Promise<void> {
    this.listeners.delete(key);
    listener.stopAccepting();
    const closed = new Promise<void>((resolve) => {
      if (!listener.server.listening) return resolve();
      // Idle keep-alive connections go now; a request being answered gets a short grace to finish.
      const cut = setTimeout(() => listener.server.closeAllConnections(), CLOSE_GRACE_MS);
      listener.server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      listener.server.closeIdleConnections();
    }).finally(() => {
      if (this.closing.get(key) === closed) this.closing.delete(key);
    });
    this.closing.set(key, closed);
    return closed;
  }
}

/** The one registry of the Node-RED process: endpoints of several nodes share a port. */
export const webhookListeners = new WebhookListeners();

export interface OpenWhenFreeOptions {
  /** How long to wait before trying a port in use again. */
  retryMs: number;
  /** Each time the port was found in use (`attempt` 1 first). */
  onWaiting?: (err: WebhookListenError, attempt: number) => void;
  listeners?: WebhookListeners;
}

export interface PendingWebhookRoute {
  /** The route once open; undefined when cancelled first. Rejects on any failure but a port in use. */
  readonly opened: Promise<OpenWebhookRoute | undefined>;
  /** Stops trying (a route already open is still the caller's to close, through `opened`). */
  cancel(): void;
}

/**
 * `open`, trying again every `retryMs` while another program holds the port (EADDRINUSE): a webhook
 * endpoint then comes up by itself once the port is free (an older process still stopping, say), instead
 * of staying down until the next deploy. Any other failure is final.
 */
export function openWhenFree(where: ListenAddress, path: string, handler: WebhookHandler, options: OpenWhenFreeOptions): PendingWebhookRoute {
  const listeners = options.listeners ?? webhookListeners;
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const opened = (async (): Promise<OpenWebhookRoute | undefined> => {
    for (let attempt = 1; ; attempt++) {
      if (cancelled) return undefined;
      try {
        return await listeners.open(where, path, handler);
      } catch (err) {
        if (!(err instanceof WebhookListenError) || err.code !== 'EADDRINUSE' || cancelled) throw err;
        options.onWaiting?.(err, attempt);
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, options.retryMs);
        });
      }
    }
  })();
  return {
    opened,
    cancel: () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}

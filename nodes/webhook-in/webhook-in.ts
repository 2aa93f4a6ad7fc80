/**
 * `magento-webhook-in`: an HTTP endpoint for order events pushed by a Magento webhook module. It reads
 * the raw body itself (the signature covers the exact bytes), verifies signature and timestamp
 * (lib/orders/webhook.ts), dedupes and journals the event durably (lib/orders/webhook-intake.ts), and only
 * then answers 2xx and emits. Rejected requests are answered here and never go downstream.
 */
import nodePath from 'path';
import { envLookup } from '../shared/env';
import { watchHandover } from '../shared/handover-hooks';
import { numberField } from '../shared/settings';
import { storeDirectory } from '../shared/store-directory';
import { throttledStatusCounts } from '../shared/status-counts';
import { IntegrationError, ValidationError } from '../../lib/errors';
import { expandEnv } from '../../lib/magento/settings';
import {
  DEFAULT_HEADER_NAMES, Handover, RawBodyUnavailable, SIGNING_SCHEMES, SigningScheme, VerifySettings, WebhookEvent,
  WebhookHeaderNames, WebhookIntake, WebhookRejection, parseWebhookEvent, readRawBody,
  answerJson, checkListenAddress, normalizePath, openIntakeStores, openWhenFree, requestPath, shownAddress, storeKindOf, verifyWebhook,
} from '../../lib/orders';
import type { IntakeStores, JournaledEvent, ListenAddress, ListenTls, OpenWebhookRoute } from '../../lib/orders';
import { sqliteFile } from '../../lib/stores';

interface WebhookInConfig {
  id: string;
  name?: string;
  url: string;
  scheme: SigningScheme;
  toleranceSeconds: number | string;
  maxBodyKb: number | string;
  signatureHeader?: string;
  timestampHeader?: string;
  eventHeader?: string;
  idempotencyHeader?: string;
  deliveryIdHeader?: string;
  dedupeHours: number | string;
  respond: 'accept' | 'flow';
  /** `node-red` (default): a route on Node-RED's HTTP server; `port`: a server of its own on `port` / `host`. */
  listen?: 'node-red' | 'port';
  port?: number | string;
  host?: string;
  /** On its own port: a Node-RED TLS configuration node (id) for HTTPS; empty: plain HTTP. */
  tls?: string;
  maxJournal?: number | string;
  /** Redis (a journal several instances share): minutes after which another instance's events it never handed over are sent on here. */
  strandedMinutes?: number | string;
  storeKind?: string;
  redisUrl?: string;
}

interface Counts {
  accepted: number;
  duplicates: number;
  rejected: number;
  failed: number;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** How often a webhook-in on its own port tries a port another program holds again. */
const PORT_RETRY_MS = 10_000;

/** The certificate and key of the TLS configuration node `id` (core tls-config), for the own port's HTTPS. */
function tlsOf(RED: any, id: string): ListenTls {
  const tlsNode = RED.nodes.getNode(id);
  if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') throw new ValidationError('tls', 'the TLS configuration node is missing (deleted, or not deployed)');
  const options = tlsNode.addTLSOptions({}) as { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer; passphrase?: string };
  if (tlsNode.valid === false || !options.cert || !options.key) {
    throw new ValidationError('tls', 'the TLS configuration has no certificate and private key (a server needs both), or could not read them');
  }
  return { id, cert: options.cert, key: options.key, ca: options.ca || undefined, passphrase: options.passphrase || undefined };
}

/** The port and interface of a node listening on its own port. */
function ownAddressOf(RED: any, config: WebhookInConfig, respondInFlow: boolean): ListenAddress {
  if (respondInFlow) {
    throw new ValidationError('respond', 'an http response node can only answer requests that came through Node-RED\'s HTTP server: listen there, or let this node answer');
  }
  if (config.port === undefined || config.port === null || String(config.port).trim() === '') {
    throw new ValidationError('port', 'is required when listening on a port of its own (e.g. 8081)');
  }
  const { port, host } = checkListenAddress(config.port, config.host);
  const tls = config.tls ? tlsOf(RED, config.tls) : undefined;
  return { port, host, tls };
}

/** Where the capture middleware leaves the raw body (or why it could not read it) for the route. */
const RAW_BODY = Symbol('magentoWebhookRawBody');
interface CapturedBody { body?: Buffer; error?: unknown }

/** The top Express app httpNode is mounted in (Node-RED's main app), or httpNode itself. */
function rootAppOf(app: any): any {
  let root = app;
  while (root && root.parent) root = root.parent;
  return root;
}

/** Express 4 keeps the router in `_router`, Express 5 (Node-RED 5) in `router`. */
function routerOf(app: any): any {
  return app?._router ?? app?.router;
}

function headerNamesOf(config: WebhookInConfig): WebhookHeaderNames {
  const pick = (v: string | undefined, fallback: string, field: string): string => {
    const s = (v ?? '').trim();
    if (!s) return fallback;
    if (!HEADER_NAME.test(s)) throw new ValidationError(field, `"${s}" is not an HTTP header name`);
    return s;
  };
  return {
    signature: pick(config.signatureHeader, DEFAULT_HEADER_NAMES.signature, 'signatureHeader'),
    timestamp: pick(config.timestampHeader, DEFAULT_HEADER_NAMES.timestamp, 'timestampHeader'),
    event: pick(config.eventHeader, DEFAULT_HEADER_NAMES.event, 'eventHeader'),
    idempotencyKey: pick(config.idempotencyHeader, DEFAULT_HEADER_NAMES.idempotencyKey, 'idempotencyHeader'),
    deliveryId: pick(config.deliveryIdHeader, DEFAULT_HEADER_NAMES.deliveryId, 'deliveryIdHeader'),
  };
}

export = function (RED: any) {
  function WebhookInNode(this: any, config: WebhookInConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const counts: Counts = { accepted: 0, duplicates: 0, rejected: 0, failed: 0 };
    /** Emitted events whose journal entry waits for the flow to take them over: _msgid → journal entry id. */
    const handover = new Handover<string>();
    const respondInFlow = config.respond === 'flow';
    let lastRejection = '';
    let stores: IntakeStores | undefined;
    let intake: WebhookIntake | undefined;
    let verify: VerifySettings | undefined;
    let maxBytes = 1024 * 1024;
    let path = '';
    let closed = false;
    let ownAddress: ListenAddress | undefined;
    /** Redis: how old another instance's journaled event gets before this one sends it on (0: never). */
    let strandedMs = 0;
    let strandedTimer: NodeJS.Timeout | undefined;

    try {
      if (config.listen === 'port') ownAddress = ownAddressOf(RED, config, respondInFlow);
      else if (RED.settings?.httpNodeRoot === false) throw new ValidationError('url', RED._('magento-webhook-in.errors.http-disabled'));
      path = String(config.url ?? '').trim();
      if (!path) throw new ValidationError('url', RED._('magento-webhook-in.errors.no-url'));
      if (!path.startsWith('/')) path = '/' + path;
      // A literal path: the raw body is captured by exact path, before any other route or parser runs.
      if (!/^\/[A-Za-z0-9\-._~/%]*$/.test(path)) throw new ValidationError('url', RED._('magento-webhook-in.errors.bad-url', { url: path }));
      const reference = node.credentials?.secret;
      if (typeof reference !== 'string' || reference.length === 0) throw new ValidationError('secret', RED._('magento-webhook-in.errors.no-secret'));
      // Node-RED expands a credential that is exactly `${NAME}` when NAME is set; a missing NAME would leave the
      // reference itself as the key, and `prefix-${NAME}` is not expanded at all. Expanded as store-config does.
      const secret = expandEnv(reference, 'secret', envLookup(RED, node));
      const scheme: SigningScheme = (SIGNING_SCHEMES as readonly string[]).includes(config.scheme) ? config.scheme : 'body';
      verify = {
        secret, scheme,
        toleranceSeconds: numberField(config.toleranceSeconds, 300, 'toleranceSeconds'),
        headers: headerNamesOf(config),
      };
      maxBytes = Math.floor(numberField(config.maxBodyKb, 1024, 'maxBodyKb', { min: 1 }) * 1024);
      const dedupeTtlMs = numberField(config.dedupeHours, 72, 'dedupeHours', { min: 0.01 }) * 3600 * 1000;
      const kind = storeKindOf(config);
      if (kind === 'redis') strandedMs = numberField(config.strandedMinutes, 10, 'strandedMinutes', { min: 0.01 }) * 60_000;
      const storeId = String(node.id).replace(/[^A-Za-z0-9_.-]/g, '_');
      const seenName = `magento-webhook-in-seen-${storeId}`;
      const journalName = `magento-webhook-in-journal-${storeId}`;
      const journalDirectory = storeDirectory(RED, node, 'magento-webhook-in', kind, journalName);
      // Earlier versions kept the SQLite seen-set in a file of its own: its claims move into the journal's file.
      const olderSeenSetFile = kind === 'sqlite' ? sqliteFile(storeDirectory(RED, node, 'magento-webhook-in', kind, seenName), seenName) : undefined;
      stores = openIntakeStores({ kind, journalName, seenName, directory: journalDirectory, redisUrl: config.redisUrl || undefined, olderSeenSetFile });
      const file = nodePath.basename(olderSeenSetFile ?? '');
      stores.adopting?.then(
        ({ adopted: count, notRemoved }) => {
          node.log(RED._('magento-webhook-in.log.claims-adopted', { count, file }));
          if (notRemoved) node.warn(RED._('magento-webhook-in.warn.claims-file-kept', { file, reason: notRemoved }));
        },
        (err: Error) => node.warn(RED._('magento-webhook-in.warn.claims-not-adopted', { file, reason: err.message })),
      );
      intake = new WebhookIntake(stores.seen, stores.journal, {
        dedupeTtlMs,
        maxJournal: Math.floor(numberField(config.maxJournal, 10000, 'maxJournal', { min: 1 })),
        onCleanupError: (err) => node.warn(RED._('magento-webhook-in.warn.journal-remove', { reason: err.message })),
        journalClaimed: stores.journalClaimed,
      });
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-webhook-in.status.config-error') });
      node.error(RED._('magento-webhook-in.errors.config', { reason: (err as Error).message }));
      return;
    }

    // A new colour or rejection reason shows at once; changed counts alone at most twice a second.
    const status = throttledStatusCounts(
      node,
      () => ({ fill: lastRejection === 'store' ? 'red' : counts.rejected > 0 ? 'yellow' : 'green', mark: lastRejection }),
      () => RED._('magento-webhook-in.status.counts', counts) + (lastRejection ? ` · ${RED._('magento-webhook-in.status.last', { reason: lastRejection })}` : ''),
    );
    function showStatus(): void {
      if (!closed) status.show();
    }

    function complete(entryId: string): void {
      intake!.complete(entryId).catch((err: Error) => node.warn(RED._('magento-webhook-in.warn.journal-remove', { reason: err.message })));
    }

    // The flow took an event over when every node wired to the output completed its message (done()
    // without error) — or, for a node whose input handler takes no done() (core switch, a subflow),
    // received it. A failed hand-over keeps the event in the journal: it is emitted again at the next start.
    const handoverHooks = watchHandover(RED, node, 'magentoWebhookIn', handover, { errorsFail: true, onTaken: complete });

    /** Hands an accepted event to the flow; the journal entry goes once the flow took it over. */
    function emit(event: WebhookEvent | JournaledEvent, entryId: string, extra: Record<string, unknown> = {}): void {
      const msgid = RED.util.generateId();
      const msg: Record<string, unknown> = {
        _msgid: msgid, topic: event.event, payload: event.payload, event: event.event,
        idempotencyKey: event.idempotencyKey, deliveryId: event.deliveryId, ...extra,
      };
      if (event.timestamp !== undefined) msg.webhookTimestamp = event.timestamp;
      // Without runtime hooks (very old runtimes) or wires nothing tells us when the flow took the event:
      // drop the entry once sent, or every restart would emit it again.
      const tracked = handoverHooks.available && handover.track(msgid, handoverHooks.destinations(), entryId);
      node.send(msg);
      if (!tracked) complete(entryId);
    }

    function reject(res: any, status: number, reason: string, message: string): void {
      counts.rejected++;
      lastRejection = reason;
      showStatus();
      // After a 413 the rest of the body is not worth reading: close once answered.
      answerJson(res, status, { error: reason, message }, status === 413 ? { Connection: 'close' } : {});
    }

    async function handle(req: any, res: any): Promise<void> {
      if (closed || !intake || !verify) {
        answerJson(res, 503, { error: 'unavailable', message: 'The endpoint is restarting; retry shortly' }, { 'Retry-After': '5' });
        return;
      }
      let event: WebhookEvent;
      try {
        const captured = req[RAW_BODY] as CapturedBody | undefined;
        if (captured?.error) throw captured.error;
        const raw = captured?.body ?? await readRawBody(req, maxBytes);
        const { timestamp } = verifyWebhook(raw, req.headers, verify);
        event = parseWebhookEvent(raw, req.headers, verify.headers, timestamp);
      } catch (err) {
        if (err instanceof WebhookRejection) return reject(res, err.status, err.reason, err.message);
        if (err instanceof RawBodyUnavailable) {
          counts.failed++;
          lastRejection = 'raw-body-unavailable';
          showStatus();
          node.error(err.message);
          answerJson(res, 500, { error: 'raw-body-unavailable', message: 'The body could not be verified' });
          return;
        }
        throw err;
      }
      let outcome;
      try {
        outcome = await intake.accept(event);
      } catch (err) {
        counts.failed++;
        lastRejection = 'store';
        showStatus();
        const typed = err instanceof IntegrationError ? err : new IntegrationError('transient', String((err as Error)?.message ?? err));
        node.warn(RED._('magento-webhook-in.warn.not-stored', { deliveryId: event.deliveryId, reason: typed.message }));
        answerJson(res, 503, { error: 'not-stored', message: 'The event could not be stored durably; retry later', deliveryId: event.deliveryId },
          { 'Retry-After': String(Math.ceil((typed.retryAfterMs ?? 5000) / 1000)) });
        return;
      }
      if (outcome.outcome === 'duplicate') {
        counts.duplicates++;
        showStatus();
        answerJson(res, 200, { status: 'duplicate', by: outcome.by, deliveryId: event.deliveryId });
        return;
      }
      counts.accepted++;
      if (lastRejection === 'store') lastRejection = '';
      showStatus();
      if (respondInFlow) {
        // Node 15+ computes req.headers lazily and non-enumerable: make them show in debug, as http in does.
        Object.defineProperty(req, 'headers', { value: req.headers, enumerable: true });
        emit(event, outcome.entryId, { req, res: { _res: res } });
      } else {
        answerJson(res, 200, { status: 'accepted', deliveryId: event.deliveryId, idempotencyKey: event.idempotencyKey });
        emit(event, outcome.entryId);
      }
    }

    const route = (req: any, res: any): void => {
      handle(req, res).catch((err: Error) => {
        counts.failed++;
        showStatus();
        node.error(RED._('magento-webhook-in.errors.unexpected', { reason: err?.message ?? String(err) }));
        if (!res.headersSent) answerJson(res, 500, { error: 'internal', message: 'Unexpected error' });
      });
    };
    const removeRoute = ownAddress ? listenOnOwnPort(ownAddress) : routeOnNodeRed();

    /**
     * A server of its own (shared with the other webhook-in nodes on that port): none of Node-RED's middleware.
     * A port another program holds is tried again every 10 s (yellow status) until it is free or the node closes.
     */
    function listenOnOwnPort(where: ListenAddress): () => Promise<void> {
      const shown = (address: string): string => `${where.tls ? 'https' : 'http'}://${address}`;
      node.status({ fill: 'grey', shape: 'ring', text: RED._('magento-webhook-in.status.starting') });
      let waited = false;
      const pending = openWhenFree(where, path, route, {
        retryMs: PORT_RETRY_MS,
        onWaiting: (err, attempt) => {
          if (closed) return;
          waited = true;
          const address = shown(shownAddress(where));
          node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-webhook-in.status.waiting-port', { address }) });
          if (attempt === 1) node.warn(RED._('magento-webhook-in.warn.port-in-use', { reason: err.message, seconds: PORT_RETRY_MS / 1000 }));
        },
      });
      const opened: Promise<OpenWebhookRoute | undefined> = pending.opened.then((own) => {
        if (own && !closed) {
          node.status({ fill: 'grey', shape: 'ring', text: RED._('magento-webhook-in.status.listening-port', { address: shown(own.address), path }) });
          if (waited) node.log(RED._('magento-webhook-in.log.listening', { address: shown(own.address), path }));
        }
        return own;
      }, (err: Error) => {
        if (!closed) {
          node.status({ fill: 'red', shape: 'ring', text: RED._('magento-webhook-in.status.listen-error') });
          node.error(RED._('magento-webhook-in.errors.listen', { reason: err.message }));
        }
        return undefined;
      });
      return async () => {
        pending.cancel();
        const own = await opened;
        await own?.close();
      };
    }

    /** A route on Node-RED's HTTP server (httpNodeRoot, httpNodeMiddleware, its TLS and its port). */
    function routeOnNodeRed(): () => Promise<void> {
      const settings = RED.settings ?? {};
      const customMiddleware = typeof settings.httpNodeMiddleware === 'function' || Array.isArray(settings.httpNodeMiddleware);
      const httpMiddleware = customMiddleware ? settings.httpNodeMiddleware : (_req: unknown, _res: unknown, next: () => void) => next();
      RED.httpNode.post(path, httpMiddleware, route);

      // Node-RED mounts its admin app (with a global JSON body parser) before httpNode when both share the
      // root path, the default: by the time our route runs the raw bytes are gone. So, like core http in's
      // "raw body" option, a middleware at the top of the root app reads the body of our path first and
      // marks it parsed (`_body`), which every body-parser after it respects.
      const fullPath = normalizePath(`${typeof RED.httpNode.path === 'function' ? RED.httpNode.path() : ''}${path}`);
      // When nothing between the top of the root app and our route applies to a webhook (no httpNodeAuth or
      // httpAuth, which Node-RED mounts in front of httpNode; no httpNodeMiddleware, which our route runs) and
      // this node answers itself (an http response node needs Express's response methods), the request is
      // answered right here: the rest of Node-RED's Express stack (its root, admin and http-node apps'
      // middleware, about 40 % of the CPU per request) does nothing for it.
      const answerHere = !respondInFlow && !customMiddleware && !settings.httpNodeAuth && !settings.httpAuth;
      const capture = (req: any, res: unknown, next: (err?: unknown) => void): void => {
        if (req.method !== 'POST' || req._body || requestPath(req.originalUrl ?? req.url) !== fullPath) return next();
        if (answerHere) return route(req, res);
        readRawBody(req, maxBytes).then((body) => { req[RAW_BODY] = { body }; }, (error) => { req[RAW_BODY] = { error }; })
          .then(() => {
            req._body = true;
            next();
          }, next);
      };
      const rootApp = rootAppOf(RED.httpNode);
      if (typeof rootApp?.use === 'function') {
        rootApp.use(capture);
        const stack: any[] | undefined = routerOf(rootApp)?.stack;
        const i = stack ? stack.findIndex((layer: any) => layer?.handle === capture) : -1;
        if (i > 0) stack!.unshift(stack!.splice(i, 1)[0]);
      }
      node.status({ fill: 'grey', shape: 'ring', text: RED._('magento-webhook-in.status.listening', { path }) });
      return async () => {
        const stack: any[] | undefined = routerOf(RED.httpNode)?.stack;
        for (let i = (stack?.length ?? 0) - 1; i >= 0; i--) {
          const layer = stack![i];
          if (layer.route && layer.route.path === path && layer.route.stack?.some((l: any) => l.handle === route)) stack!.splice(i, 1);
        }
        const rootStack: any[] | undefined = routerOf(rootAppOf(RED.httpNode))?.stack;
        const at = rootStack ? rootStack.findIndex((layer: any) => layer?.handle === capture) : -1;
        if (at >= 0) rootStack!.splice(at, 1);
      };
    }

    /** Sends on, marked `replayed`, the journaled events received before `receivedBefore` that this instance did not send on yet. */
    function sendOnUnfinished(receivedBefore: number, report: (count: number) => void): void {
      intake!.unfinished(1000, receivedBefore).then((entries) => {
        if (closed || entries.length === 0) return;
        for (const { entryId, event } of entries) emit(event, entryId, { replayed: true });
        report(entries.length);
      }, (err: Error) => node.warn(RED._('magento-webhook-in.warn.journal-read', { reason: err.message })));
    }

    // Events accepted before a crash or restart but not taken over by the flow go out again.
    const replay = (): void => {
      sendOnUnfinished(Infinity, (count) => node.log(RED._('magento-webhook-in.log.replayed', { count })));
      // A journal several instances share (Redis): an event one of them journaled and never handed over would wait
      // for the next start of an instance once that one is gone (stopped, scaled away). Each instance sends such
      // events on once they are older than "Others' events after", each once (a gate behind lets one of two through).
      if (strandedMs > 0 && !closed && !strandedTimer) {
        strandedTimer = setInterval(() => sendOnUnfinished(Date.now() - strandedMs,
          (count) => node.warn(RED._('magento-webhook-in.warn.stranded', { count, minutes: strandedMs / 60_000 }))),
        Math.min(60_000, Math.max(1_000, strandedMs / 4)));
        strandedTimer.unref?.();
      }
    };
    RED.events?.once?.('flows:started', replay);

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (strandedTimer) clearInterval(strandedTimer);
      status.stop();
      RED.events?.removeListener?.('flows:started', replay);
      handoverHooks.remove();
      handover.clear();
      // The route goes first (a closing own server lets requests in progress finish), then the stores.
      removeRoute().catch(() => undefined)
        .then(() => stores?.close()).catch(() => undefined)
        .then(() => done());
    });
  }

  RED.nodes.registerType('magento-webhook-in', WebhookInNode, {
    credentials: { secret: { type: 'password' } },
  });
};

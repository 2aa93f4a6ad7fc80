/**
 * Verifies an order webhook the way the ERP integration guide's publisher signs it: HMAC-SHA256 (hex) of
 * the raw body — or of `timestamp + "." + body` — with a shared secret, a Unix-seconds timestamp header
 * checked against a tolerance window, and event / idempotency-key headers. Pure functions over bytes and
 * headers: the HTTP plumbing lives in the node, the durable parts in webhook-intake.ts.
 *
 * Never put the secret or a computed signature in a result, error or log line.
 */
import crypto from 'crypto';

export type SigningScheme = 'body' | 'timestamp.body';

export const SIGNING_SCHEMES: readonly SigningScheme[] = ['body', 'timestamp.body'];

export interface WebhookHeaderNames {
  signature: string;
  timestamp: string;
  event: string;
  idempotencyKey: string;
  /** Id of one delivery attempt series; optional, falls back to the idempotency key, then a body hash. */
  deliveryId: string;
}

export const DEFAULT_HEADER_NAMES: Readonly<WebhookHeaderNames> = Object.freeze({
  signature: 'X-Magento-Signature',
  timestamp: 'X-Magento-Timestamp',
  event: 'X-Magento-Event',
  idempotencyKey: 'X-Magento-Idempotency-Key',
  deliveryId: 'X-Magento-Delivery-Id',
});

export interface VerifySettings {
  secret: string;
  scheme: SigningScheme;
  /** Largest allowed distance between the timestamp header and now, in seconds; 0 = timestamp not checked. */
  toleranceSeconds: number;
  headers: WebhookHeaderNames;
}

export type Headers = Record<string, string | string[] | undefined>;

/** Why a request was refused; `status` is what the sender gets. */
export type RejectReason =
  | 'missing-signature' | 'bad-signature' | 'missing-timestamp' | 'bad-timestamp' | 'stale-timestamp' | 'future-timestamp'
  | 'malformed-json' | 'not-an-object' | 'too-large' | 'unsupported-encoding' | 'incomplete-body';

export const REJECT_STATUS: Record<RejectReason, number> = {
  'missing-signature': 401,
  'bad-signature': 401,
  'missing-timestamp': 401,
  'bad-timestamp': 401,
  'stale-timestamp': 401,
  'future-timestamp': 401,
  'malformed-json': 400,
  'not-an-object': 400,
  'too-large': 413,
  'unsupported-encoding': 415,
  'incomplete-body': 400,
};

export class WebhookRejection extends Error {
  readonly status: number;
  constructor(readonly reason: RejectReason, message: string) {
    super(message);
    this.name = 'WebhookRejection';
    this.status = REJECT_STATUS[reason];
  }
}

/** One header value, case-insensitively (Node lower-cases incoming names; tests and proxies may not). */
export function headerValue(headers: Headers, name: string): string | undefined {
  const want = name.toLowerCase();
  let v = headers[want];
  if (v === undefined) {
    for (const [k, value] of Object.entries(headers)) if (k.toLowerCase() === want) { v = value; break; }
  }
  if (Array.isArray(v)) v = v[0];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

/** The bytes the signature covers under `scheme`. */
export function signedContent(rawBody: Buffer, scheme: SigningScheme, timestamp: string | undefined): Buffer {
  if (scheme === 'body') return rawBody;
  return Buffer.concat([Buffer.from(`${timestamp ?? ''}.`, 'utf8'), rawBody]);
}

/** Hex HMAC-SHA256 as a publisher computes it (also used by tests and the sandbox's sender). */
export function computeSignature(secret: string, rawBody: Buffer | string, scheme: SigningScheme = 'body', timestamp?: string | number): string {
  const body = Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8');
  return crypto.createHmac('sha256', secret).update(signedContent(body, scheme, timestamp === undefined ? undefined : String(timestamp))).digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Constant-time check of a hex signature header (an optional `sha256=` prefix is accepted). */
export function signatureMatches(expectedHex: string, given: string): boolean {
  const normalized = given.trim().replace(/^sha256=/i, '').toLowerCase();
  const expected = Buffer.from(expectedHex, 'hex');
  // Compare a same-length buffer whatever was given, so a malformed header costs the same time.
  const candidate = HEX_SHA256.test(normalized) ? Buffer.from(normalized, 'hex') : Buffer.alloc(expected.length);
  const same = crypto.timingSafeEqual(expected, candidate);
  return same && HEX_SHA256.test(normalized);
}

/**
 * Checks signature and timestamp; throws a WebhookRejection (401) naming what was wrong, never the secret.
 * Resolves with the timestamp in Unix seconds when the header was present.
 */
export function verifyWebhook(rawBody: Buffer, headers: Headers, settings: VerifySettings, nowMs: number = Date.now()): { timestamp?: number } {
  const names = settings.headers;
  const tsHeader = headerValue(headers, names.timestamp);
  const mustHaveTimestamp = settings.scheme === 'timestamp.body' || settings.toleranceSeconds > 0;
  let timestamp: number | undefined;
  if (tsHeader === undefined) {
    if (mustHaveTimestamp) throw new WebhookRejection('missing-timestamp', `The ${names.timestamp} header is missing`);
  } else {
    if (!/^\d{1,12}$/.test(tsHeader)) throw new WebhookRejection('bad-timestamp', `The ${names.timestamp} header is not a Unix time in seconds`);
    timestamp = Number(tsHeader);
  }
  const sigHeader = headerValue(headers, names.signature);
  if (sigHeader === undefined) throw new WebhookRejection('missing-signature', `The ${names.signature} header is missing`);
  const expected = computeSignature(settings.secret, rawBody, settings.scheme, tsHeader);
  if (!signatureMatches(expected, sigHeader)) {
    throw new WebhookRejection('bad-signature', `The ${names.signature} header does not match the body (HMAC-SHA256 over ${settings.scheme === 'body' ? 'the raw body' : 'timestamp + "." + raw body'})`);
  }
  // Checked after the signature, so an unsigned request learns nothing about our clock.
  if (timestamp !== undefined && settings.toleranceSeconds > 0) {
    const skew = nowMs / 1000 - timestamp;
    if (skew > settings.toleranceSeconds) throw new WebhookRejection('stale-timestamp', `The ${names.timestamp} is ${Math.round(skew)} s old, more than the ${settings.toleranceSeconds} s allowed (a replay, or a clock off)`);
    if (-skew > settings.toleranceSeconds) throw new WebhookRejection('future-timestamp', `The ${names.timestamp} is ${Math.round(-skew)} s in the future, more than the ${settings.toleranceSeconds} s allowed (check the clocks)`);
  }
  return { timestamp };
}

/** The event as the node emits it. */
export interface WebhookEvent {
  /** Parsed JSON body. */
  payload: Record<string, unknown> | unknown[];
  /**
   * The body as received (UTF-8 text): what the journal keeps, one string instead of a copy of the parsed
   * tree. Absent on an event built by hand; the journal then keeps the payload re-serialised.
   */
  body?: string;
  /** e.g. `order.placed`; `unknown` when the sender gave no event header. */
  event: string;
  /** From the idempotency-key header, or derived from the order: `order_<increment_id>_<created_at>`. */
  idempotencyKey: string;
  /** One delivery (the same across the sender's retries). */
  deliveryId: string;
  /** The business event the dedupe keys on: event type + order key + updated_at (or + idempotency key without an order). */
  businessKey: string;
  timestamp?: number;
}

function orderPart(body: Record<string, unknown>): Record<string, unknown> {
  for (const k of ['order', 'data', 'object']) {
    const v = body[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  }
  return body;
}

function scalar(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v).trim() || undefined : undefined;
}

/**
 * Parses the verified body and derives the keys. A body that is not JSON, or not an object or array,
 * throws a WebhookRejection (400).
 */
export function parseWebhookEvent(rawBody: Buffer, headers: Headers, names: WebhookHeaderNames, timestamp?: number): WebhookEvent {
  const text = rawBody.toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new WebhookRejection('malformed-json', `The body is not valid JSON (${(err as Error).message})`);
  }
  if (!payload || typeof payload !== 'object') throw new WebhookRejection('not-an-object', 'The body must be a JSON object or array');
  const body = Array.isArray(payload) ? {} : orderPart(payload as Record<string, unknown>);
  const top = Array.isArray(payload) ? {} : (payload as Record<string, unknown>);
  const event = headerValue(headers, names.event) ?? scalar(top.event) ?? scalar(top.event_type) ?? 'unknown';
  const headerKey = headerValue(headers, names.idempotencyKey);
  let hash: string | undefined;
  // Only a sender that names neither the delivery nor the order needs the hash: most never pay for it.
  const bodyHash = (): string => (hash ??= crypto.createHash('sha256').update(rawBody).digest('hex').slice(0, 32));
  const incrementId = scalar(body.increment_id) ?? scalar(top.increment_id);
  const createdAt = scalar(body.created_at) ?? scalar(top.created_at);
  // The order's own key: the same order event sent again under a new delivery id or idempotency key is
  // still the same business event.
  const orderKey = incrementId ? `order_${incrementId}${createdAt ? `_${createdAt}` : ''}` : undefined;
  const idempotencyKey = headerKey ?? orderKey ?? `body_${bodyHash()}`;
  let businessKey: string;
  if (orderKey) {
    // The order key names the order, not the change: two status updates of one order are two events.
    const version = scalar(body.updated_at) ?? scalar(top.updated_at) ?? scalar(body.status) ?? scalar(top.status) ?? '';
    businessKey = `${event}|${orderKey}|${version}`;
  } else {
    businessKey = `${event}|${idempotencyKey}`;
  }
  const deliveryId = headerValue(headers, names.deliveryId) ?? headerKey ?? `body_${bodyHash()}`;
  return { payload: payload as Record<string, unknown>, body: text, event, idempotencyKey, deliveryId, businessKey, timestamp };
}

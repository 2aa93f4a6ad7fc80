/**
 * Removes secrets from anything that may reach a log, a status, an error or an audit record.
 * Two nets: known secret values (the store's own credentials, passed in), and the shapes secrets
 * travel in (Authorization headers, OAuth parameters, JSON keys named like secrets) for the ones we
 * were not told about, such as an admin token Magento just handed out.
 */

export const REDACTED = '[redacted]';

/** Object keys whose values are always secret, whatever they hold. */
export const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|token|access_?token|accessTokenSecret|access_token_secret|consumerSecret|consumer_secret|tokenSecret|token_secret|oauth_token|oauth_signature|oauth_token_secret|oauth_consumer_secret|api_?key|client_secret|x-api-key)$/i;

const TEXT_PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xyz / Authorization: OAuth oauth_consumer_key="...", ...
  [/(authorization["']?\s*[:=]\s*["']?)(?:bearer|basic|oauth)\s+[^\r\n"'}]+/gi, `$1${REDACTED}`],
  // A token has a digit or symbol in it, or is long: "Bearer tokens unless …" in a hint stays readable.
  [/\b(bearer)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/=]|[A-Za-z]{20})[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  [/\b(OAuth)\s+((?:realm|oauth_[a-z_]+)="[^"]*"\s*,?\s*)+/g, `$1 ${REDACTED}`],
  [/\b(oauth_(?:token|signature|token_secret|consumer_secret|verifier))=("[^"]*"|[^&\s,"]+)/gi, `$1=${REDACTED}`],
  // "password":"x" / password=x in bodies echoed by servers
  [/("(?:password|token|secret|consumerSecret|accessTokenSecret|accessToken)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${REDACTED}"`],
];

/** True for an object key whose value must never be shown (password, token, authorization, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Secrets shorter than this are not scrubbed by value: "1" or "ab" would mangle every message. */
const MIN_SECRET_LENGTH = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  // A true private field: the list never shows in JSON.stringify or util.inspect of the redactor.
  readonly #secrets: string[] = [];

  constructor(secrets: Iterable<string | undefined | null> = []) {
    for (const s of secrets) this.addSecret(s);
  }

  /** Adds a value to scrub wherever it appears (also its URL-encoded form). */
  addSecret(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      if (!this.#secrets.includes(form)) this.#secrets.push(form);
    }
    // Longest first, so a secret containing another is removed whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.replace(new RegExp(escapeRegExp(secret), 'g'), REDACTED);
    }
    for (const [re, replacement] of TEXT_PATTERNS) out = out.replace(re, replacement);
    return out;
  }

  /** A scrubbed deep copy (plain data only; functions dropped, Errors reduced to name/message/code). */
  value<T>(value: T): T {
    return this.walk(value, new WeakSet()) as T;
  }

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
    if (Array.isArray(value)) return value.map((v) => this.walk(v, seen));
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) {
      const e = value as Error & { code?: unknown };
      const out: Record<string, unknown> = { name: e.name, message: this.text(e.message) };
      if (e.code !== undefined) out.code = e.code;
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // axios keeps the whole request (headers included) on `config` and `request`: never carry them.
      if (k === 'config' || k === 'request' || k === 'headers' && isHeaderBag(v)) {
        out[k] = k === 'headers' ? this.headers(v as Record<string, unknown>) : REDACTED;
        continue;
      }
      out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? REDACTED : this.walk(v, seen);
    }
    return out;
  }

  private headers(h: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h)) out[k] = SECRET_KEY.test(k) ? REDACTED : this.walk(v, new WeakSet());
    return out;
  }
}

function isHeaderBag(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}


/** Scrubs a string: the given secret values, then anything shaped like a credential. */
export function redactText(value: string, secrets: Iterable<string | undefined | null> = []): string {
  return new Redactor(secrets).text(value);
}

/** Scrubbed deep copy of any value (objects, arrays, errors, strings). */
export function redact<T>(value: T, secrets: Iterable<string | undefined | null> = []): T {
  return new Redactor(secrets).value(value);
}

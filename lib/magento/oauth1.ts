/**
 * OAuth 1.0a request signing as Magento 2.4 verifies it (Magento\Framework\Oauth with Laminas OAuth):
 *
 * - Parameters = the `oauth_*` values of the Authorization header, plus the query string split on `&`
 *   and `=` and decoded with PHP `urldecode` (so a raw `+` would read as a space: we always send `%2B`),
 *   plus a form-encoded body (never used by Magento's JSON REST). The query keys stay in their bracketed
 *   form: `searchCriteria[filter_groups][0][filters][0][field]`.
 * - Each key and value is RFC 3986-encoded, the pairs are sorted by key with PHP `strnatcmp` (natural
 *   order, not byte order: `[2]` sorts before `[10]`), joined `k=v&...`.
 * - The URL is normalised the Laminas way: scheme and host lower-case, default port dropped, query and
 *   fragment dropped, dot segments removed, percent-escapes of unreserved characters decoded and the
 *   others kept (upper-case hex), so a SKU `A/B` stays `%2F` in the signed path.
 * - Base string = METHOD & enc(url) & enc(params); key = enc(consumerSecret) & enc(tokenSecret);
 *   signature = base64(HMAC-SHA256 or HMAC-SHA1).
 */
import { createHmac, randomBytes } from 'crypto';
import { percentEncode } from './url';

export type SignatureMethod = 'HMAC-SHA256' | 'HMAC-SHA1';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export type SignatureParams = Record<string, string | string[]>;

/** PHP's strnatcmp (ext/standard/strnatcmp.c), which Laminas uses to order the parameters. */
export function phpStrnatcmp(a: string, b: string): number {
  const A = Buffer.from(a, 'utf8');
  const B = Buffer.from(b, 'utf8');
  const aend = A.length;
  const bend = B.length;
  if (aend === 0 || bend === 0) return aend === bend ? 0 : aend > bend ? 1 : -1;
  const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;
  const isSpace = (c: number | undefined): boolean => c !== undefined && (c === 32 || (c >= 9 && c <= 13));
  let ap = 0;
  let bp = 0;
  let ca = A[ap];
  let cb = B[bp];
  while (ca === 48 && ap + 1 < aend && isDigit(A[ap + 1])) ca = A[++ap];
  while (cb === 48 && bp + 1 < bend && isDigit(B[bp + 1])) cb = B[++bp];
  for (;;) {
    while (isSpace(ca)) ca = A[++ap];
    while (isSpace(cb)) cb = B[++bp];
    if (isDigit(ca) && isDigit(cb)) {
      const fractional = ca === 48 || cb === 48;
      let result = 0;
      if (fractional) {
        // Left-aligned: the first different digit wins.
        for (;; ap++, bp++) {
          const da = ap < aend && isDigit(A[ap]);
          const db = bp < bend && isDigit(B[bp]);
          if (!da && !db) { result = 0; break; }
          if (!da) { result = -1; break; }
          if (!db) { result = 1; break; }
          if (A[ap] < B[bp]) { result = -1; break; }
          if (A[ap] > B[bp]) { result = 1; break; }
        }
      } else {
        // Right-aligned: the longer run wins, else the first difference (remembered as bias).
        let bias = 0;
        for (;; ap++, bp++) {
          const da = ap < aend && isDigit(A[ap]);
          const db = bp < bend && isDigit(B[bp]);
          if (!da && !db) { result = bias; break; }
          if (!da) { result = -1; break; }
          if (!db) { result = 1; break; }
          if (A[ap] < B[bp]) { if (!bias) bias = -1; } else if (A[ap] > B[bp]) { if (!bias) bias = 1; }
        }
      }
      if (result !== 0) return result;
      if (ap === aend && bp === bend) return 0;
      if (ap === aend) return -1;
      if (bp === bend) return 1;
      ca = A[ap];
      cb = B[bp];
    }
    if (ca < cb) return -1;
    if (ca > cb) return 1;
    ++ap;
    ++bp;
    if (ap >= aend && bp >= bend) return 0;
    if (ap >= aend) return -1;
    if (bp >= bend) return 1;
    ca = A[ap];
    cb = B[bp];
  }
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function removeDotSegments(path: string): string {
  // RFC 3986 section 5.2.4, as Laminas\Uri implements it.
  let input = path;
  let output = '';
  while (input.length) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) { input = input.slice(3); output = output.replace(/\/?[^/]*$/, ''); }
    else if (input === '/..') { input = '/'; output = output.replace(/\/?[^/]*$/, ''); }
    else if (input === '.' || input === '..') input = '';
    else {
      const m = /^\/?[^/]*/.exec(input)!;
      output += m[0];
      input = input.slice(m[0].length);
    }
  }
  return output;
}

function normalizePath(path: string): string {
  const decoded = removeDotSegments(path).replace(/%[A-Fa-f0-9]{2}/g, (esc) => {
    const ch = String.fromCharCode(parseInt(esc.slice(1), 16));
    return UNRESERVED.test(ch) ? ch : esc.toUpperCase();
  });
  // Characters that are neither allowed in a path nor already escaped get escaped (Laminas encodePath).
  return decoded.replace(/[^A-Za-z0-9\-._~:@&=+$,/;%]+|%(?![A-Fa-f0-9]{2})/g, (m) => percentEncode(m));
}

/** The URL part of the base string: scheme://host[:port]/path, without query or fragment. */
export function normalizeSignatureUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url);
  if (!m) throw new Error('OAuth 1.0a: not an absolute URL');
  const scheme = m[1].toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') throw new Error('OAuth 1.0a: URL must be http or https');
  let authority = m[2].replace(/^[^@]*@/, '').toLowerCase();
  const portMatch = /:(\d*)$/.exec(authority);
  if (portMatch && !authority.endsWith(']')) {
    const port = portMatch[1];
    if (port === '' || (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) {
      authority = authority.slice(0, -portMatch[0].length);
    }
  }
  const path = m[3] ? normalizePath(m[3]) : '/';
  return `${scheme}://${authority}${path}`;
}

/** PHP urldecode: `+` is a space, `%XX` a byte. */
function phpUrldecode(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '+') bytes.push(32);
    else if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

function isProtocolParameter(name: string): boolean {
  return /oauth_[a-z_-]+/.test(name);
}

/**
 * The query parameters Magento adds to the signature (Magento\Framework\Oauth\Helper\Request): pairs
 * split on `&`, kept only when they split on `=` into exactly two parts, decoded with urldecode,
 * `oauth_*` names left out; a repeated key keeps its last value.
 */
export function queryParamsForSignature(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  const q = url.indexOf('?');
  if (q < 0) return out;
  const query = url.slice(q + 1).split('#')[0];
  if (!query) return out;
  for (const pair of query.split('&')) {
    const parts = pair.split('=');
    if (parts.length === 2 && !isProtocolParameter(parts[0])) out[phpUrldecode(parts[0])] = phpUrldecode(parts[1]);
  }
  return out;
}

/** The `oauth_*` parameters of an `Authorization: OAuth ...` header, decoded (empty when not OAuth). */
export function parseAuthorizationHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  const at = header.toLowerCase().indexOf('oauth ');
  if (at < 0) return out;
  for (const item of header.slice(at + 6).split(',')) {
    const eq = item.trim().indexOf('=');
    if (eq < 0) continue;
    const name = item.trim().slice(0, eq);
    const value = item.trim().slice(eq + 1).replace(/^"+|"+$/g, '');
    if (isProtocolParameter(name)) out[decodeURIComponentSafe(name)] = decodeURIComponentSafe(value);
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/**
 * The signature base string. `params` holds every parameter already decoded (oauth_* + query + form
 * body); the URL's own query string is ignored here (pass it through `queryParamsForSignature`).
 */
export function signatureBaseString(method: string, url: string, params: SignatureParams): string {
  const encoded: Array<[string, string[]]> = [];
  for (const [k, v] of Object.entries(params)) {
    if (k === 'oauth_signature') continue;
    const values = Array.isArray(v) ? v.map((x) => percentEncode(String(x))) : [percentEncode(String(v))];
    encoded.push([percentEncode(k), values]);
  }
  encoded.sort((a, b) => phpStrnatcmp(a[0], b[0]));
  const pairs: string[] = [];
  for (const [k, values] of encoded) {
    for (const v of values.length > 1 ? [...values].sort(phpStrnatcmp) : values) pairs.push(`${k}=${v}`);
  }
  return [method.toUpperCase(), percentEncode(normalizeSignatureUrl(url)), percentEncode(pairs.join('&'))].join('&');
}

export function hmacSignature(baseString: string, consumerSecret: string, tokenSecret: string, method: SignatureMethod = 'HMAC-SHA256'): string {
  const key = percentEncode(consumerSecret) + '&' + percentEncode(tokenSecret ?? '');
  const algo = method === 'HMAC-SHA1' ? 'sha1' : 'sha256';
  return createHmac(algo, key).update(baseString).digest('base64');
}

export interface SignOptions {
  method: string;
  /** Full URL as it will be sent, query string included. */
  url: string;
  credentials: OAuth1Credentials;
  signatureMethod?: SignatureMethod;
  /** Fixed values for tests and published vectors; random/now otherwise. */
  nonce?: string;
  timestamp?: number | string;
  /** Form-encoded body parameters (OAuth signs them; Magento's JSON bodies are not signed). */
  bodyParams?: Record<string, string>;
}

export interface SignedRequest {
  /** Value for the Authorization header. It holds the access token: treat it as a secret. */
  authorization: string;
  oauthParams: Record<string, string>;
}

/** Signs one request; returns the Authorization header value. */
export function signRequest(options: SignOptions): SignedRequest {
  const signatureMethod = options.signatureMethod ?? 'HMAC-SHA256';
  const oauthParams: Record<string, string> = {
    oauth_consumer_key: options.credentials.consumerKey,
    oauth_nonce: options.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: signatureMethod,
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_token: options.credentials.accessToken,
    oauth_version: '1.0',
  };
  const all: SignatureParams = { ...queryParamsForSignature(options.url), ...(options.bodyParams ?? {}), ...oauthParams };
  const base = signatureBaseString(options.method, options.url, all);
  oauthParams.oauth_signature = hmacSignature(base, options.credentials.consumerSecret, options.credentials.accessTokenSecret, signatureMethod);
  const authorization = 'OAuth ' + Object.entries(oauthParams).map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(',');
  return { authorization, oauthParams };
}

export interface VerifyOptions {
  method: string;
  /** scheme://host + the request URI exactly as received (query included). */
  url: string;
  authorization: string | undefined;
  consumerSecret: string;
  tokenSecret: string;
  /** Form-encoded body, when the request had `Content-Type: application/x-www-form-urlencoded`. */
  formBody?: string;
}

/** Verifies a request the way Magento does (for the sandbox and tests). */
export function verifySignature(options: VerifyOptions): { ok: boolean; params: Record<string, string>; reason?: string } {
  const header = parseAuthorizationHeader(options.authorization);
  if (!header.oauth_signature) return { ok: false, params: header, reason: 'oauth_signature is missing' };
  const method = header.oauth_signature_method;
  if (method !== 'HMAC-SHA256' && method !== 'HMAC-SHA1') {
    return { ok: false, params: header, reason: `Signature method ${method ?? '(none)'} is not supported` };
  }
  const params: SignatureParams = { ...header };
  if (options.formBody) {
    for (const [k, v] of new URLSearchParams(options.formBody)) if (!isProtocolParameter(k)) params[k] = v;
  }
  Object.assign(params, queryParamsForSignature(options.url));
  const expected = hmacSignature(signatureBaseString(options.method, options.url, params), options.consumerSecret, options.tokenSecret, method);
  const ok = expected.length === header.oauth_signature.length && timingSafeEqualString(expected, header.oauth_signature);
  return ok ? { ok, params: header } : { ok, params: header, reason: 'Invalid signature' };
}

function timingSafeEqualString(a: string, b: string): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

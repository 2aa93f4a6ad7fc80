/**
 * URL pieces exactly as Magento and its OAuth verifier read them. One encoder for the path, the query
 * and the signature, so what we sign is byte for byte what we send.
 */
import { ValidationError } from '../errors';
import type { QueryParams } from './types';

/** RFC 3986 percent-encoding: everything but ALPHA / DIGIT / "-" / "." / "_" / "~". */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * Encodes one path parameter (a SKU, an increment id, a source code). A SKU may hold `/`, spaces, `#`,
 * `+`, `?` or `%`: all are escaped, so `A/B 1#2` becomes `A%2FB%201%232`. A segment of only dots is
 * escaped too, or servers would resolve it as `.`/`..`.
 * Note: some web servers (Apache without `AllowEncodedSlashes NoDecode`) refuse or decode `%2F`; Magento
 * itself accepts it.
 */
export function encodePathSegment(value: string | number): string {
  const s = String(value);
  if (s === '') throw new ValidationError('path parameter', 'must not be empty');
  if (/^\.+$/.test(s)) return s.replace(/\./g, '%2E');
  return percentEncode(s);
}

export function queryValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

/** `a=1&b=x%20y`, keys and values RFC 3986-encoded (brackets become %5B/%5D), in insertion order. */
export function encodeQueryString(query: QueryParams | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    parts.push(percentEncode(k) + '=' + percentEncode(queryValue(v)));
  }
  return parts.join('&');
}

/** Base URL without a trailing slash and without a `/rest` or `/index.php/rest` the user pasted. */
export function normalizeBaseUrl(baseUrl: string): string {
  const trimmed = baseUrl.trim();
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    throw new ValidationError('baseUrl', `"${trimmed}" is not an absolute URL (e.g. https://shop.example.com)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ValidationError('baseUrl', `must start with http:// or https:// (got ${u.protocol})`);
  }
  if (u.search || u.hash) throw new ValidationError('baseUrl', 'must not hold a query string or a fragment');
  const path = u.pathname.replace(/\/+$/, '').replace(/\/(index\.php\/)?rest(\/V1)?$/i, '');
  return `${u.protocol}//${u.host}${path}`;
}

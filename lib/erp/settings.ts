/**
 * The erp-request node's form (strings as the editor saves them, `${ENV}` references allowed in the URL
 * and the token) → validated client options and per-message settings. Every error names the field.
 */
import { ValidationError } from '../errors';
import { expandEnv } from '../magento/settings';
import { ERP_METHODS, ErpClientOptions, ErpMethod, parseErpBaseUrl } from './request';

export interface ErpRequestForm {
  url?: string;
  path?: string;
  method?: string;
  bodyProperty?: string;
  keyHeader?: string;
  passStatuses?: string;
  timeout?: string | number;
  maxConnections?: string | number;
}

export interface ErpRequestSettings {
  client: ErpClientOptions;
  method: ErpMethod;
  path: string;
  bodyProperty: string;
  keyHeader: string;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PROPERTY = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*|\[\d+\])*$/;

/** A path below the base URL: starts with `/`, no scheme or host, no `..` segment, no control character. */
export function checkErpPath(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, 'must be a path starting with / (e.g. /orders)');
  if (!value.startsWith('/') || value.startsWith('//')) throw new ValidationError(field, `must start with a single / (got ${JSON.stringify(value.slice(0, 80))})`);
  if (/[\u0000-\u0020\u007f]/.test(value)) throw new ValidationError(field, 'must not hold spaces or control characters (encode them)');
  if (value.split('?')[0].split('/').includes('..')) throw new ValidationError(field, 'must not hold a ".." segment');
  return value;
}

/** An idempotency key as a header value: text or a number, printable, at most 255 characters. */
export function checkIdempotencyKey(value: unknown, field = 'msg.idempotencyKey'): string {
  if (value === undefined || value === null || value === '') {
    throw new ValidationError(field, 'is missing: the ERP needs it to create each record once (set it with idempotency-gate or map-order, or clear the node\'s key header)');
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new ValidationError(field, `must be text or a number, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  const key = String(value);
  if (key.length > 255) throw new ValidationError(field, 'is longer than 255 characters');
  if (!/^[\u0020-\u007e]+$/.test(key)) throw new ValidationError(field, 'must hold printable ASCII characters only (it travels in an HTTP header)');
  return key;
}

function numberField(value: unknown, field: string, fallback: number, min: number, max: number, integer: boolean): number {
  if (value === undefined || value === null || String(value).trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ValidationError(field, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

export function parsePassStatuses(value: unknown, field = 'passStatuses'): number[] {
  if (value === undefined || value === null || String(value).trim() === '') return [];
  return String(value).split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const n = Number(s);
    if (!/^\d{3}$/.test(s) || n < 100 || n > 599) throw new ValidationError(field, `"${s}" is not an HTTP status (a comma list such as 409, 412)`);
    return n;
  });
}

export function erpSettingsFromConfig(
  form: ErpRequestForm,
  credentials: { token?: string } | undefined,
  lookup: (name: string) => unknown = (n) => process.env[n],
): ErpRequestSettings {
  const url = expandEnv(String(form.url ?? '').trim(), 'url', lookup);
  if (url === '') throw new ValidationError('url', 'the ERP\'s base URL is required (e.g. ${ERP_URL} or https://erp.example.com/api)');
  const baseUrl = parseErpBaseUrl(url, 'url').toString();
  const method = String(form.method || 'POST').toUpperCase() as ErpMethod;
  if (!ERP_METHODS.includes(method)) throw new ValidationError('method', `"${form.method}" is not one of ${ERP_METHODS.join(', ')}`);
  const path = checkErpPath(String(form.path ?? '').trim() || '/orders', 'path');
  // `msg.payload` means `payload`, as in Node-RED's own property fields.
  const bodyProperty = String(form.bodyProperty ?? '').trim().replace(/^msg\./, '') || 'payload';
  if (!PROPERTY.test(bodyProperty)) throw new ValidationError('bodyProperty', `"${bodyProperty}" is not a message property (e.g. payload or erpOrder)`);
  const keyHeader = form.keyHeader === undefined ? 'Idempotency-Key' : String(form.keyHeader).trim();
  if (keyHeader !== '' && !HEADER_NAME.test(keyHeader)) throw new ValidationError('keyHeader', `"${keyHeader}" is not an HTTP header name`);
  if (/^(authorization|content-type|content-length|host|accept)$/i.test(keyHeader)) throw new ValidationError('keyHeader', `${keyHeader} is set by the node itself`);
  const rawToken = credentials?.token;
  // Secrets keep their spaces: only a reference is expanded, the value is not trimmed. A token that is only
  // a reference to an unset variable means no token (ERP_TOKEN is optional: the demo ERP runs without one).
  const whole = typeof rawToken === 'string' ? /^\$\{([^}]+)\}$/.exec(rawToken) : null;
  const unset = whole !== null && [undefined, null, ''].includes(lookup(whole[1].trim()) as string | null | undefined);
  const token = typeof rawToken === 'string' && rawToken !== '' && !unset ? expandEnv(rawToken, 'credentials.token', lookup) : undefined;
  if (token !== undefined && /[\r\n]/.test(token)) throw new ValidationError('credentials.token', 'must be one line');
  return {
    client: {
      baseUrl,
      token,
      timeoutMs: numberField(form.timeout, 'timeout', 30, 0.001, 3600, false) * 1000,
      maxSockets: numberField(form.maxConnections, 'maxConnections', 100, 1, 10_000, true),
      keyHeader,
      passStatuses: parsePassStatuses(form.passStatuses),
    },
    method,
    path,
    bodyProperty,
    keyHeader,
  };
}

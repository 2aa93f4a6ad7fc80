/**
 * Turns what an integrator typed (strings, possibly `${ENV_VAR}` references) into validated
 * StoreSettings. Node-RED itself only replaces a property or credential whose whole value is `${VAR}`;
 * here every field, credentials included, may also hold `${VAR}` inside its text
 * (e.g. `https://${SHOP_HOST}`), so one shipped flow runs against any store.
 */
import { ValidationError } from '../errors';
import { validateStoreSettings } from './client';
import { AuthSettings, AuthType, DEFAULT_INPUT_LIMITS, StoreSettings } from './types';

/** The store-config node's properties, as strings or numbers from the editor. */
export interface StoreConfigForm {
  name?: string;
  baseUrl?: string;
  storeCode?: string;
  authType?: string;
  timeout?: string | number;
  maxConcurrency?: string | number;
  requestsPerSecond?: string | number;
  rejectUnauthorized?: boolean | string;
  maxItemsPerRequest?: string | number;
  maxPageSize?: string | number;
  maxBulkItems?: string | number;
}

export interface StoreConfigCredentials {
  consumerKey?: string;
  consumerSecret?: string;
  accessToken?: string;
  accessTokenSecret?: string;
  token?: string;
  username?: string;
  password?: string;
}

export const AUTH_TYPES: readonly AuthType[] = ['oauth1', 'bearer', 'admin', 'none'];

const ENV_REF = /\$\{([^}]+)\}/g;

/** Replaces every `${NAME}` in `value`; a NAME with no value is a ValidationError naming `field`. */
export function expandEnv(value: string, field: string, lookup: (name: string) => unknown): string {
  if (typeof value !== 'string' || !value.includes('${')) return value;
  return value.replace(ENV_REF, (_m, rawName: string) => {
    const name = rawName.trim();
    const v = lookup(name);
    if (v === undefined || v === null || v === '') {
      throw new ValidationError(field, `environment variable ${name} is not set`);
    }
    return String(v);
  });
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v).trim();
}

/** Builds and validates StoreSettings from the node's properties and credentials. */
export function settingsFromConfig(
  form: StoreConfigForm,
  credentials: StoreConfigCredentials | undefined,
  lookup: (name: string) => unknown = (n) => process.env[n],
): StoreSettings {
  const x = (field: string, v: unknown): string | undefined => {
    const s = str(v);
    return s === undefined ? undefined : expandEnv(s, field, lookup);
  };
  const authType = (x('authType', form.authType) || 'oauth1') as AuthType;
  if (!AUTH_TYPES.includes(authType)) throw new ValidationError('authType', `"${authType}" is not one of ${AUTH_TYPES.join(', ')}`);
  const c = credentials ?? {};
  // Secrets keep their spaces: only a reference is expanded, the value is not trimmed.
  const secret = (field: keyof StoreConfigCredentials): string => {
    const v = c[field];
    return typeof v === 'string' ? expandEnv(v, `credentials.${field}`, lookup) : '';
  };
  let auth: AuthSettings;
  switch (authType) {
    case 'oauth1':
      auth = { type: 'oauth1', consumerKey: secret('consumerKey').trim(), consumerSecret: secret('consumerSecret'), accessToken: secret('accessToken'), accessTokenSecret: secret('accessTokenSecret') };
      break;
    case 'bearer':
      auth = { type: 'bearer', token: secret('token').trim() };
      break;
    case 'admin':
      auth = { type: 'admin', username: secret('username').trim(), password: secret('password') };
      break;
    default:
      auth = { type: 'none' };
  }
  const tls = x('rejectUnauthorized', form.rejectUnauthorized);
  return validateStoreSettings({
    name: x('name', form.name) || 'magento',
    baseUrl: x('baseUrl', form.baseUrl) ?? '',
    storeCode: x('storeCode', form.storeCode) || 'default',
    auth,
    timeoutMs: numberOr(x('timeout', form.timeout), 30000),
    maxConcurrency: numberOr(x('maxConcurrency', form.maxConcurrency), 4),
    requestsPerSecond: numberOr(x('requestsPerSecond', form.requestsPerSecond), 0),
    rejectUnauthorized: !(tls === 'false' || tls === '0' || tls === 'no'),
    limits: {
      maxItemsPerRequest: numberOr(x('maxItemsPerRequest', form.maxItemsPerRequest), DEFAULT_INPUT_LIMITS.maxItemsPerRequest),
      maxPageSize: numberOr(x('maxPageSize', form.maxPageSize), DEFAULT_INPUT_LIMITS.maxPageSize),
      maxBulkItems: numberOr(x('maxBulkItems', form.maxBulkItems), DEFAULT_INPUT_LIMITS.maxBulkItems),
    },
  } as StoreSettings);
}

/** Empty means default; anything else must be a number (validateStoreSettings names the field). */
function numberOr(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : (v as unknown as number);
}

/** A settings copy safe to show or log (no credentials). */
export function describeSettings(s: StoreSettings): Record<string, unknown> {
  return {
    name: s.name, baseUrl: s.baseUrl, storeCode: s.storeCode, authType: s.auth.type, timeoutMs: s.timeoutMs,
    maxConcurrency: s.maxConcurrency, requestsPerSecond: s.requestsPerSecond, rejectUnauthorized: s.rejectUnauthorized,
    limits: { ...s.limits },
  };
}

/**
 * "Test connection": one cheap authenticated call (`GET /V1/store/storeConfigs`, the store views with
 * their codes and base URLs), then the view names from `GET /V1/store/storeViews` when allowed.
 */
import { IntegrationError } from '../errors';
import { MagentoError, toMagentoError } from './errors';
import type { MagentoClient } from './types';

export interface StoreViewInfo {
  id?: number;
  code: string;
  name?: string;
  websiteId?: number;
  baseUrl?: string;
  secureBaseUrl?: string;
  currency?: string;
  locale?: string;
  timezone?: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  durationMs: number;
  /** The configured store code was found among the store views (always true for `all`). */
  storeCodeFound?: boolean;
  stores?: StoreViewInfo[];
  error?: { message: string; errorClass: string; status?: number; code?: string; reason?: string; hint?: string };
}

interface StoreConfigRow {
  id?: number; code?: string; website_id?: number; base_url?: string; secure_base_url?: string;
  base_currency_code?: string; locale?: string; timezone?: string;
}

export async function testConnection(client: MagentoClient): Promise<ConnectionTestResult> {
  const started = Date.now();
  try {
    const rows = await client.request<StoreConfigRow[]>({ method: 'GET', path: '/store/storeConfigs', operation: 'store.test-connection', storeCode: 'default' });
    if (!Array.isArray(rows)) {
      throw new MagentoError('permanent', 'GET /V1/store/storeConfigs did not answer a list: is the base URL a Magento 2 store?', { reason: 'not-json' });
    }
    const stores: StoreViewInfo[] = rows.map((r) => ({
      id: r.id, code: String(r.code ?? ''), websiteId: r.website_id, baseUrl: r.base_url, secureBaseUrl: r.secure_base_url,
      currency: r.base_currency_code, locale: r.locale, timezone: r.timezone,
    }));
    try {
      const views = await client.request<Array<{ id?: number; code?: string; name?: string }>>({ method: 'GET', path: '/store/storeViews', operation: 'store.test-connection', storeCode: 'default' });
      if (Array.isArray(views)) {
        for (const v of views) {
          const s = stores.find((x) => x.code === v.code);
          if (s) s.name = v.name;
        }
      }
    } catch {
      // Names are a nicety: the integration may not be allowed to read store views.
    }
    const code = client.settings.storeCode;
    return { ok: true, durationMs: Date.now() - started, stores, storeCodeFound: code === 'all' || stores.some((s) => s.code === code) };
  } catch (err) {
    const e = err instanceof IntegrationError ? err : toMagentoError(err);
    const m = e instanceof MagentoError ? e : undefined;
    return {
      ok: false,
      durationMs: Date.now() - started,
      error: { message: e.message, errorClass: e.errorClass, status: e.status, code: e.code, reason: m?.reason, hint: m?.hint },
    };
  }
}

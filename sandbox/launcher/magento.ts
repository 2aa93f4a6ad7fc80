/**
 * Starts the Magento sandbox (sandbox/magento/) with the launcher's settings, and reads its catalogue back
 * through Magento's own REST API so the demo ERP stocks and prices SKUs that exist in the store.
 */
import type { CatalogItem } from '../erp/catalog';
import { FaultConfig, startMagentoSandbox } from '../magento/index';
import type { SandboxSettings } from './settings';

export interface RunningMagento {
  url: string;
  close(): Promise<void>;
}

export async function startMagento(
  settings: SandboxSettings,
  webhook: { url?: string; signTimestamp: boolean },
  faults: FaultConfig | undefined,
): Promise<RunningMagento> {
  const sandbox = await startMagentoSandbox({
    port: settings.magentoPort,
    host: '127.0.0.1',
    seed: settings.seed,
    orders: settings.orders,
    bearerToken: settings.bearerToken,
    adminUser: settings.adminUser,
    adminPassword: settings.adminPassword,
    oauth: { ...settings.oauth },
    webhookUrl: webhook.url,
    webhookSecret: settings.webhookSecret,
    webhookSignTimestamp: webhook.signTimestamp,
    faults,
  });
  return { url: sandbox.url, close: () => sandbox.close() };
}

interface SearchPage<T> {
  items: T[];
  total_count: number;
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Every item of a Magento list route, page by page, stopping by total_count (a page past the end repeats the last). */
async function all<T>(base: string, route: string, token: string, filters: string): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const query = `searchCriteria[pageSize]=300&searchCriteria[currentPage]=${page}${filters}`;
    const body = await getJson<SearchPage<T>>(`${base}/rest/all/V1${route}?${query}`, token);
    out.push(...body.items);
    if (body.items.length === 0 || out.length >= body.total_count) return out;
  }
}

/** Simple products with their price and quantity per MSI source. */
export async function readCatalog(magentoUrl: string, token: string): Promise<{ catalog: CatalogItem[]; sources: string[] }> {
  const simple = '&searchCriteria[filter_groups][0][filters][0][field]=type_id'
    + '&searchCriteria[filter_groups][0][filters][0][value]=simple'
    + '&searchCriteria[filter_groups][0][filters][0][condition_type]=eq';
  const products = await all<{ sku: string; name: string; price: number; weight?: number }>(magentoUrl, '/products', token, simple);
  const sourceItems = await all<{ sku: string; source_code: string; quantity: number }>(magentoUrl, '/inventory/source-items', token, '');
  const stock = new Map<string, Record<string, number>>();
  const sources = new Set<string>();
  for (const item of sourceItems) {
    sources.add(item.source_code);
    const bySource = stock.get(item.sku) ?? {};
    bySource[item.source_code] = item.quantity;
    stock.set(item.sku, bySource);
  }
  const catalog = products.map((p) => {
    const item: CatalogItem = { sku: p.sku, name: p.name, price: p.price, stock: stock.get(p.sku) ?? {} };
    if (p.weight !== undefined) item.weight = p.weight;
    return item;
  });
  return { catalog, sources: [...sources].sort() };
}

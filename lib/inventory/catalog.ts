/**
 * What the store has, asked before pushing: its MSI sources and which SKUs exist. MSI answers a batch
 * holding one unknown source or SKU with a whole-batch failure and no per-item detail (some versions even
 * store an orphan row for an unknown SKU), so a cheap look-up first saves bisecting and orphans.
 * Caches live per store (per client object) and are shared by every node pushing to it.
 */
import { LRUCache } from 'lru-cache';
import { MagentoClient } from '../magento/types';

export class SourceCatalog {
  private cached: { codes: Set<string>; at: number } | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<Set<string> | undefined> | undefined;

  constructor(private readonly client: MagentoClient, private readonly ttlMs = 5 * 60_000, private readonly retryAfterMs = 30_000) {}

  /** The store's source codes, or undefined when they cannot be read (no MSI, no permission, store down). */
  async codes(): Promise<Set<string> | undefined> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.codes;
    if (now - this.failedAt < this.retryAfterMs) return this.cached?.codes;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<Set<string> | undefined> {
    try {
      const codes = new Set<string>();
      for await (const page of this.client.pages<{ source_code: string }>('/inventory/sources', {
        filterGroups: [], pageSize: this.client.settings.limits?.maxPageSize ?? 300,
      }, { operation: 'inventory.sources.list', fields: 'items[source_code],total_count' })) {
        for (const s of page.items) if (s && typeof s.source_code === 'string') codes.add(s.source_code);
      }
      this.cached = { codes, at: Date.now() };
      return codes;
    } catch {
      this.failedAt = Date.now();
      return this.cached?.codes;
    }
  }

  /** Forgets the list (e.g. after Magento refused a source we thought existed). */
  invalidate(): void {
    this.cached = undefined;
  }
}

export interface MissingSkus {
  /** Lower-cased SKUs the store does not have. */
  missing: Set<string>;
  calls: number;
  /** False when the look-up failed and nothing could be concluded. */
  checked: boolean;
}

/** Upper bound on the joined `sku in (…)` value: long query strings are refused by many front servers. */
const MAX_FILTER_CHARS = 4000;

export class ProductCatalog {
  private readonly known: LRUCache<string, true>;

  constructor(private readonly client: MagentoClient, options: { ttlMs?: number; max?: number } = {}) {
    this.known = new LRUCache<string, true>({ max: options.max ?? 200_000, ttl: options.ttlMs ?? 10 * 60_000 });
  }

  /**
   * Which of `skus` the store lacks. Known SKUs are remembered for a while (not missing ones: a product
   * may be created any minute). SKUs holding a comma cannot be asked with `in` and are assumed present.
   */
  async missing(skus: Iterable<string>): Promise<MissingSkus> {
    const toAsk: string[] = [];
    const seen = new Set<string>();
    for (const sku of skus) {
      const k = sku.toLowerCase();
      if (seen.has(k) || this.known.has(k) || sku.includes(',')) continue;
      seen.add(k);
      toAsk.push(sku);
    }
    const result: MissingSkus = { missing: new Set(), calls: 0, checked: true };
    if (!toAsk.length) return result;
    const pageSize = Math.max(1, this.client.settings.limits?.maxPageSize ?? 300);
    const groups: string[][] = [];
    let group: string[] = [];
    let chars = 0;
    for (const sku of toAsk) {
      if (group.length && (group.length >= pageSize || chars + sku.length + 1 > MAX_FILTER_CHARS)) {
        groups.push(group);
        group = [];
        chars = 0;
      }
      group.push(sku);
      chars += sku.length + 1;
    }
    if (group.length) groups.push(group);
    for (const g of groups) {
      try {
        result.calls++;
        const page = await this.client.search<{ sku: string }>('/products', {
          filterGroups: [[{ field: 'sku', value: g.join(','), conditionType: 'in' }]],
          pageSize,
          currentPage: 1,
        }, { operation: 'products.check-skus', fields: 'items[sku],total_count' });
        const found = new Set<string>();
        for (const p of page.items ?? []) if (p && typeof p.sku === 'string') found.add(p.sku.toLowerCase());
        for (const sku of g) {
          const k = sku.toLowerCase();
          if (found.has(k)) this.known.set(k, true);
          else result.missing.add(k);
        }
      } catch {
        // Not being able to look up is no reason to hold the push back: bisecting still names bad SKUs.
        result.checked = false;
      }
    }
    return result;
  }

  /** Remembers SKUs the store just accepted. */
  remember(skus: Iterable<string>): void {
    for (const s of skus) this.known.set(s.toLowerCase(), true);
  }
}

const sourceCatalogs = new WeakMap<object, SourceCatalog>();
const productCatalogs = new WeakMap<object, ProductCatalog>();

export function sourceCatalogFor(client: MagentoClient): SourceCatalog {
  let c = sourceCatalogs.get(client);
  if (!c) sourceCatalogs.set(client, (c = new SourceCatalog(client)));
  return c;
}

export function productCatalogFor(client: MagentoClient): ProductCatalog {
  let c = productCatalogs.get(client);
  if (!c) productCatalogs.set(client, (c = new ProductCatalog(client)));
  return c;
}

/**
 * Magento's price APIs answer HTTP 200 with a list of the items they did not save:
 * `[{message: "... Row ID: SKU = %SKU, Store ID: %storeId.", parameters: [...] or {...}}]`.
 * Depending on version and serializer the parameters come as a list (in placeholder order) or keyed by
 * placeholder. This names each failure's item so it becomes that item's rejection.
 */
import { ItemRejection } from '../batching';
import { PriceUpdate } from './types';

export interface PriceFailure {
  message?: string;
  parameters?: unknown;
}

/** The placeholders of a Magento message in order: `%SKU`, `%storeId`, `%1`. */
export function placeholders(message: string): string[] {
  return Array.from(message.matchAll(/%(\w+)/g), (m) => m[1]);
}

/** Parameters by placeholder name (and by 1-based position for `%1` style messages). */
export function namedParameters(message: string, parameters: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  // A placeholder may appear twice (`... %SKU ... Row ID: SKU = %SKU`): list values follow first appearances.
  const names = Array.from(new Set(placeholders(message).filter((n) => !/^\d+$/.test(n))));
  if (Array.isArray(parameters)) {
    parameters.forEach((v, i) => {
      const value = v === null || v === undefined ? '' : String(v);
      out[String(i + 1)] = value;
      const name = names[i];
      if (name !== undefined) out[name] = value;
    });
  } else if (parameters && typeof parameters === 'object') {
    for (const [k, v] of Object.entries(parameters as Record<string, unknown>)) out[k] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

/** Magento's message with its parameters filled in. */
export function renderMessage(message: string, parameters: unknown): string {
  const named = namedParameters(message, parameters);
  return message.replace(/%(\w+)/g, (whole, name: string) => (named[name] !== undefined ? named[name] : whole));
}

function find(named: Record<string, string>, ...keys: string[]): string | undefined {
  const lower = new Map(Object.entries(named).map(([k, v]) => [k.toLowerCase(), v]));
  for (const k of keys) {
    const v = lower.get(k.toLowerCase());
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

export interface MappedFailures {
  rejections: ItemRejection[];
  /** Failures that name no item of the batch. */
  unattributed: string[];
}

/** Pairs each failure with the batch items it names (SKU first, then store/website/group/qty to narrow). */
export function mapPriceFailures(batch: readonly PriceUpdate[], failures: unknown): MappedFailures {
  const out: MappedFailures = { rejections: [], unattributed: [] };
  if (!Array.isArray(failures)) return out;
  const seen = new Set<number>();
  for (const f of failures as PriceFailure[]) {
    const message = typeof f?.message === 'string' ? f.message : 'price not saved';
    const named = namedParameters(message, f?.parameters);
    const reason = renderMessage(message, f?.parameters);
    let sku = find(named, 'SKU', 'sku');
    const skus = new Set(batch.map((u) => u.body.sku.toLowerCase()));
    if (sku === undefined || !skus.has(sku.toLowerCase())) {
      sku = Object.values(named).find((v) => skus.has(v.toLowerCase()));
    }
    if (sku === undefined) {
      out.unattributed.push(reason);
      continue;
    }
    let candidates = batch.map((u, i) => ({ u, i })).filter(({ u }) => u.body.sku.toLowerCase() === sku!.toLowerCase());
    const narrow = (value: string | undefined, get: (u: PriceUpdate) => unknown): void => {
      if (value === undefined || candidates.length < 2) return;
      const hit = candidates.filter(({ u }) => String(get(u)).toLowerCase() === value.toLowerCase());
      if (hit.length) candidates = hit;
    };
    narrow(find(named, 'storeId', 'store_id'), (u) => ('store_id' in u.body ? u.body.store_id : undefined));
    narrow(find(named, 'websiteId', 'website_id'), (u) => ('website_id' in u.body ? u.body.website_id : undefined));
    narrow(find(named, 'customerGroup', 'customer_group'), (u) => ('customer_group' in u.body ? u.body.customer_group : undefined));
    narrow(find(named, 'qty', 'quantity'), (u) => ('quantity' in u.body ? u.body.quantity : undefined));
    narrow(find(named, 'priceFrom', 'price_from'), (u) => ('price_from' in u.body ? u.body.price_from : undefined));
    for (const { i } of candidates) {
      if (seen.has(i)) continue;
      seen.add(i);
      out.rejections.push({ index: i, reason, details: { message, parameters: f?.parameters } });
    }
  }
  return out;
}

/**
 * Stock and price pushes, ERP → Magento: the updates are posted in chunks (as an ERP sends batches) to an
 * http in of a fresh Node-RED process, into push-inventory / push-price, or into the hand-built flow that
 * makes one Magento call per update; the raw client sends the same updates in input-limit batches.
 * HTTP calls are counted at the sandbox. Done when every chunk's message is done (Complete/Catch nodes).
 */
import { Rng } from '../../sandbox/magento/prng';
import { forkChild } from '../lib/child-process';
import { now, postJson, waitUntil } from '../lib/measure';
import { v8Flags, type BenchOptions } from '../lib/options';
import type { Row } from '../lib/report';
import { problemLines, startBackends, startNodeRed, type Backends, type BenchNodeRed } from '../lib/stack';

interface StockUpdate { sku: string; qty: number }
interface PriceUpdate { sku: string; price: number; store_id: number }

type Stats = Record<string, number | undefined>;

/** Creates the benchmark's SKUs through the async bulk API (two calls for 10,000) and waits for the consumer. */
async function createSkus(b: Backends, count: number, prefix: string): Promise<string[]> {
  const skus = Array.from({ length: count }, (_, k) => `${prefix}-${String(k).padStart(6, '0')}`);
  for (let i = 0; i < skus.length; i += 5000) {
    const res = await postJson(`${b.magento.url}/rest/default/async/bulk/V1/products`, skus.slice(i, i + 5000).map((sku) => ({
      product: { sku, name: sku, price: 10, status: 1, type_id: 'simple', attribute_set_id: 4, visibility: 4 },
    })), { authorization: `Bearer ${b.token}` });
    if (res.status !== 202) throw new Error(`creating SKUs: the sandbox answered ${res.status} ${res.text.slice(0, 200)}`);
  }
  await b.magento.drainBulk();
  return skus;
}

function stockWorkload(opts: BenchOptions, skus: string[]): StockUpdate[] {
  const rng = new Rng(opts.seed * 7919 + 1);
  return Array.from({ length: opts.stock }, () => ({ sku: rng.pick(skus), qty: rng.int(0, 500) }));
}

function priceWorkload(opts: BenchOptions, skus: string[]): PriceUpdate[] {
  const rng = new Rng(opts.seed * 7919 + 2);
  return Array.from({ length: opts.prices }, () => ({ sku: rng.pick(skus), price: rng.int(500, 20000) / 100, store_id: 0 }));
}

/** Posts the chunks one after the other (each answered 202 at once) and waits until `finished` says so. */
async function pushThroughNodeRed(b: Backends, nodeRed: BenchNodeRed, path: string, items: unknown[], chunk: number,
  finished: (s: Stats, chunks: number) => boolean): Promise<{ ms: number; stats: Stats }> {
  b.magentoCalls.reset();
  const t0 = now();
  let chunks = 0;
  for (let i = 0; i < items.length; i += chunk) {
    const res = await postJson(`${nodeRed.url}${path}`, items.slice(i, i + chunk));
    if (res.status !== 202) throw new Error(`POST ${path} answered ${res.status}: ${res.text.slice(0, 200)}`);
    chunks++;
  }
  let stats: Stats = {};
  await waitUntil(`${path}: every update settled`, async () => {
    stats = await nodeRed.stats<Stats>();
    return finished(stats, chunks) ? true : undefined;
  }, { progress: () => b.magentoCalls.total, stallMs: 90_000, explain: () => `${JSON.stringify(stats)}\n${problemLines(nodeRed).slice(-10).join('\n')}` });
  return { ms: now() - t0, stats };
}

interface PushKind {
  workload: 'stock push' | 'price push';
  noun: string;
  unit: string;
  packFlow: string;
  packNode: string;
  handFlow: string;
  path: string;
  magentoPath: string;
  field: 'sourceItems' | 'prices';
  toMagento: (u: any) => unknown;
  variants: Array<{ label: string; overrides?: Record<string, unknown> }>;
}

const STOCK: PushKind = {
  workload: 'stock push', noun: 'updates', unit: 'updates/s', packFlow: 'stock-pack.json', packNode: 'stock-push', handFlow: 'stock-hand.json',
  path: '/bench/stock', magentoPath: '/inventory/source-items', field: 'sourceItems',
  toMagento: (u: StockUpdate) => ({ sku: u.sku, source_code: 'default', quantity: u.qty, status: u.qty > 0 ? 1 : 0 }),
  variants: [
    { label: 'pack: push-inventory MSI (coalesced, batches of 20)', overrides: { mode: 'msi' } },
    { label: 'pack: push-inventory async bulk', overrides: { mode: 'bulk' } },
  ],
};

const PRICES: PushKind = {
  workload: 'price push', noun: 'prices', unit: 'prices/s', packFlow: 'prices-pack.json', packNode: 'prices-push', handFlow: 'prices-hand.json',
  path: '/bench/prices', magentoPath: '/products/base-prices', field: 'prices',
  toMagento: (p: PriceUpdate) => ({ sku: p.sku, price: p.price, store_id: p.store_id }),
  variants: [{ label: 'pack: push-price (coalesced, batches of 20)' }],
};

async function runPush(kind: PushKind, opts: BenchOptions, log: (s: string) => void, workload: (skus: string[]) => unknown[]): Promise<Row[]> {
  const b = await startBackends({ orders: 0, seed: opts.seed });
  const rows: Row[] = [];
  try {
    const skus = await createSkus(b, opts.skus, kind === STOCK ? 'STOCK' : 'PRICE');
    const items = workload(skus);
    const env = { MAGENTO_URL: b.magento.url, MAGENTO_TOKEN: b.token, ERP_URL: b.erp.url };

    log(`${kind.workload}: raw client, ${items.length} ${kind.noun}`);
    b.magentoCalls.reset();
    const raw = await forkChild({ kind: 'raw-push', magentoUrl: b.magento.url, token: b.token, path: kind.magentoPath, field: kind.field, items: items.map(kind.toMagento), batch: 20 }, v8Flags(opts)).result;
    rows.push({
      workload: kind.workload, variant: 'raw client loop (batches of 20 in arrival order, 4 at a time)', role: 'raw client', items: items.length, unit: kind.unit,
      ms: raw.ms!, throughput: items.length / (raw.ms! / 1000), calls: { magento: b.magentoCalls.total }, peakRssBytes: raw.maxRss, process: 'own process',
      notes: raw.failed ? [`${raw.failed} not applied`] : [], details: { ok: raw.ok, failed: raw.failed },
    });
    if (kind === STOCK) await b.magento.drainBulk();

    for (const v of kind.variants) {
      log(`${kind.workload}: ${v.label}, ${items.length} ${kind.noun}`);
      const nodeRed = await startNodeRed({ heapMb: opts.nodeRedHeapMb, nodeFlags: v8Flags(opts), flow: kind.packFlow, env, overrides: v.overrides ? { [kind.packNode]: v.overrides } : undefined });
      try {
        const { ms, stats } = await pushThroughNodeRed(b, nodeRed, kind.path, items, opts.chunk, (s, chunks) => (s.messagesDone ?? 0) + (s.messagesFailed ?? 0) >= chunks);
        const notApplied = (stats.items_rejected ?? 0) + (stats.items_failed ?? 0) + (stats.items_invalid ?? 0);
        const notes: string[] = [];
        if (notApplied || stats.messagesFailed) notes.push(`${notApplied} ${kind.noun} not applied, ${stats.messagesFailed ?? 0} messages failed`);
        const problems = problemLines(nodeRed);
        if (problems.length) notes.push(`Node-RED warned: ${problems.slice(0, 2).join(' | ')}`);
        // A bulk write (`/async/bulk/V1/inventory/source-items`) matches both prefixes: count it once, as a write.
        const writes = b.magentoCalls.matching(kind.magentoPath);
        const bulkStatusPolls = b.magentoCalls.matching('/bulk/') - (v.overrides?.mode === 'bulk' ? writes : 0);
        rows.push({
          workload: kind.workload, variant: v.label, role: 'pack', items: items.length, unit: kind.unit, ms, throughput: items.length / (ms / 1000),
          calls: { magento: b.magentoCalls.total }, peakRssBytes: nodeRed.peakRss(), process: 'Node-RED', notes,
          details: { stats, writes, bulkStatusPolls, lookups: b.magentoCalls.total - writes - bulkStatusPolls },
        });
      } finally {
        await nodeRed.stop();
      }
    }

    log(`${kind.workload}: hand-built flow (one call per update), ${items.length} ${kind.noun}`);
    const hand = await startNodeRed({ heapMb: opts.nodeRedHeapMb, nodeFlags: v8Flags(opts), flow: kind.handFlow, env });
    try {
      const { ms, stats } = await pushThroughNodeRed(b, hand, `${kind.path}-hand`, items, opts.chunk, (s) => (s.items_ok ?? 0) + (s.items_failed ?? 0) >= items.length);
      rows.push({
        workload: kind.workload, variant: 'hand-built flow (one http request per update)', role: 'hand-built', items: items.length, unit: kind.unit,
        ms, throughput: items.length / (ms / 1000), calls: { magento: b.magentoCalls.total }, peakRssBytes: hand.peakRss(), process: 'Node-RED',
        notes: stats.items_failed ? [`${stats.items_failed} ${kind.noun} not applied`] : [], details: { stats },
      });
    } finally {
      await hand.stop();
    }
    return rows;
  } finally {
    await b.close();
  }
}

export function stockPush(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  return runPush(STOCK, opts, log, (skus) => stockWorkload(opts, skus));
}

export function pricePush(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  return runPush(PRICES, opts, log, (skus) => priceWorkload(opts, skus));
}
